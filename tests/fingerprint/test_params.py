"""Parameter fingerprints are canonical and type-aware."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from waldo._errors import Unfingerprintable
from waldo.fingerprint import params_fingerprint


def test_key_order_does_not_matter() -> None:
    a = {"model": {"alpha": 0.1, "layers": [1, 2]}, "seed": 7}
    b = {"seed": 7, "model": {"layers": [1, 2], "alpha": 0.1}}
    assert params_fingerprint(a) == params_fingerprint(b)


@pytest.mark.parametrize(("a", "b"), [(1, 1.0), (1, "1"), (True, 1), (None, 0), ([1], [1.0])])
def test_types_are_distinguished(a: object, b: object) -> None:
    assert params_fingerprint(a) != params_fingerprint(b)


def test_numpy_scalars_and_dates() -> None:
    assert params_fingerprint(np.int64(3)) != params_fingerprint(np.float64(3))
    assert params_fingerprint(dt.date(2026, 1, 1)) == params_fingerprint(dt.date(2026, 1, 1))


def test_unknown_objects_are_refused_with_a_clear_message() -> None:
    class Model:
        pass

    with pytest.raises(Unfingerprintable, match="Model"):
        params_fingerprint({"model": Model()})
