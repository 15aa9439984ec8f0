"""User values that JSON cannot hold become their repr, with one warning naming them."""

from __future__ import annotations

import json
import logging
from datetime import date

import pytest

from waldo.journal import json_safe


class Model:
    def __repr__(self) -> str:
        return "<Model v2>"


class BrokenRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")


def test_plain_values_pass_through_unchanged(caplog: pytest.LogCaptureFixture) -> None:
    value = {"a": 1, "b": [1.5, "x", None, True], "c": {"d": (1, 2)}}
    with caplog.at_level(logging.WARNING, logger="waldo"):
        assert json_safe(value) == {"a": 1, "b": [1.5, "x", None, True], "c": {"d": [1, 2]}}
    assert caplog.records == []


def test_unserialisable_object_becomes_its_repr_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    params = {"factor": 2, "model": {"estimator": Model()}, "when": date(2026, 1, 2)}
    with caplog.at_level(logging.WARNING, logger="waldo"):
        safe = json_safe(params, "runtime parameter")
    assert safe == {
        "factor": 2,
        "model": {"estimator": "<Model v2>"},
        "when": "datetime.date(2026, 1, 2)",
    }
    json.dumps(safe)  # storable now
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2  # one per bad value, none for the good ones
    assert "runtime parameter 'model.estimator'" in messages[0]
    assert "Model" in messages[0]
    assert "runtime parameter 'when'" in messages[1]


def test_odd_values_never_raise(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="waldo"):
        safe = json_safe({"x": BrokenRepr(), "nan": float("nan"), "s": {3, 1}})
    assert safe == {"x": "<unrepresentable BrokenRepr>", "nan": "nan", "s": [1, 3]}
    assert ["'x'" in r.getMessage() for r in caplog.records] == [True]
