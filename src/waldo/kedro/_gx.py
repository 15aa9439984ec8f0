"""Great Expectations 1.x, run on a value in memory (``pip install 'waldo[checks]'``).

One ephemeral GX context per process (no ``gx/`` folder, no file written) with one
pandas data source whose single dataframe asset takes each value to check. The
expectations of a dataset are built once (:meth:`GxRunner.prepare`) and validated
together as one suite each time the dataset is saved: they then share the metrics
they need (one pass over a column for several expectations), three times quicker on
a large frame than validating them one by one.

An expectation that cannot be built (an unknown name, a wrong argument) or that GX
cannot evaluate (a column the frame lacks) gives a :class:`Verdict` with an error, never
an exception: the caller decides what a failure means.

Importing this module imports GX (several seconds): only a run with checks does.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from waldo._errors import ConfigError
from waldo.journal._checks import UNEXPECTED_KEPT
from waldo.kedro._checks_config import Expectation

try:
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ConfigError(
        f"checks in waldo.yml need Great Expectations 1.x: pip install 'waldo[checks]' ({exc})"
    ) from exc

RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": UNEXPECTED_KEPT}


@dataclass
class Verdict:
    """What checking one expectation found."""

    expectation: Expectation
    success: bool
    observed_value: Any = None
    unexpected_count: int | None = None
    unexpected_values: list[Any] = field(default_factory=list)
    error: str | None = None


@dataclass
class Prepared:
    """A dataset's expectations, built: GX objects by index, or why one cannot be."""

    expectations: list[Expectation]
    built: dict[int, Any]
    errors: dict[int, str]


class GxRunner:
    """Validates values against prepared expectations in one ephemeral GX context.

    Validations are serialised: GX's context is not known to be thread-safe, and a
    ThreadRunner saves from several threads.
    """

    def __init__(self) -> None:
        config = DataContextConfig(
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
            store_backend_defaults=InMemoryStoreBackendDefaults(),
        )
        context = gx.get_context(mode="ephemeral", project_config=config)
        asset = context.data_sources.add_pandas("waldo").add_dataframe_asset("saved")
        self._batches = asset.add_batch_definition_whole_dataframe("whole")
        self._lock = threading.Lock()

    @staticmethod
    def prepare(expectations: Sequence[Expectation]) -> Prepared:
        """Build each expectation's GX object; keep why one cannot be built."""
        built: dict[int, Any] = {}
        errors: dict[int, str] = {}
        for index, expectation in enumerate(expectations):
            if expectation.problem is not None:  # e.g. a suite file that cannot be read
                errors[index] = expectation.problem
                continue
            try:
                built[index] = ExpectationConfiguration(
                    type=expectation.type,
                    kwargs=dict(expectation.kwargs),
                    meta={"waldo_index": index},
                ).to_domain_obj()
            except Exception as exc:
                errors[index] = build_error(expectation, exc)
        return Prepared(list(expectations), built, errors)

    def validate(
        self, data: Any, prepared: Prepared, parameters: Mapping[str, Any] | None = None
    ) -> list[Verdict]:
        """Check ``data`` (a pandas DataFrame, or anything with ``to_pandas()``)."""
        errors = dict(prepared.errors)
        known = set(parameters or {})
        for index, expectation in enumerate(prepared.expectations):
            missing = sorted(expectation.parameters() - known)
            if index in prepared.built and missing:
                errors[index] = f"suite parameter {missing[0]} has no value (see `parameters:`)"
        runnable = [obj for index, obj in prepared.built.items() if index not in errors]
        found: dict[int, Verdict] = {}
        if runnable:
            try:
                frame = as_pandas(data)
                found = self._validate(frame, runnable, prepared, parameters or {})
            except Exception as exc:  # the whole validation could not run
                reason = validation_error(exc)
                errors.update({i: reason for i in prepared.built if i not in errors})
        return [
            found.get(index) or Verdict(expectation, False, error=errors.get(index, "not run"))
            for index, expectation in enumerate(prepared.expectations)
        ]

    def _validate(
        self,
        frame: Any,
        runnable: list[Any],
        prepared: Prepared,
        parameters: Mapping[str, Any],
    ) -> dict[int, Verdict]:
        suite = gx.ExpectationSuite(name="waldo", expectations=runnable)
        with self._lock:
            batch = self._batches.get_batch(batch_parameters={"dataframe": frame})
            outcome = batch.validate(
                suite, result_format=RESULT_FORMAT, expectation_parameters=dict(parameters)
            )
        found: dict[int, Verdict] = {}
        for result in outcome.results:
            config = result.expectation_config
            index = int(config.meta["waldo_index"]) if config is not None else -1
            if index < 0:  # pragma: no cover - GX returns each result with its config
                continue
            found[index] = verdict(prepared.expectations[index], result)
        return found


def verdict(expectation: Expectation, result: Any) -> Verdict:
    """A GX ``ExpectationValidationResult`` as a :class:`Verdict`."""
    error = raised_message(result.exception_info)
    details = result.result or {}
    return Verdict(
        expectation=expectation,
        success=bool(result.success) and error is None,
        observed_value=details.get("observed_value"),
        unexpected_count=details.get("unexpected_count"),
        unexpected_values=list(details.get("partial_unexpected_list") or [])[:UNEXPECTED_KEPT],
        error=error,
    )


def raised_message(info: Any) -> str | None:
    """The message of an exception GX caught while evaluating an expectation, if any.

    GX reports it either directly (``raised_exception``) or per metric it could not
    compute (a dict of such reports)."""
    if not isinstance(info, Mapping):
        return None
    if info.get("raised_exception"):
        return _clean(str(info.get("exception_message") or "GX raised an exception"))
    for value in info.values():
        if isinstance(value, Mapping) and value.get("raised_exception"):
            return _clean(str(value.get("exception_message") or "GX raised an exception"))
    return None


def _clean(message: str) -> str:
    line = message.strip().splitlines()[0] if message.strip() else message
    return line.removeprefix("Error: ")


def build_error(expectation: Expectation, exc: Exception) -> str:
    """Why an expectation could not be built, in one line."""
    name = type(exc).__name__
    if name == "ExpectationNotFoundError":
        return f"unknown expectation {expectation.type} (see the Great Expectations gallery)"
    errors = getattr(exc, "errors", None)
    if name == "ValidationError" and callable(errors):
        first = errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "arguments"
        return f"bad argument {where}: {first.get('msg', exc)}"
    return _clean(f"{name}: {exc}")


def validation_error(exc: Exception) -> str:
    """Why a whole validation could not run, in one line."""
    if isinstance(exc, NotATable):
        return str(exc)
    return _clean(f"{type(exc).__name__}: {exc}")


class NotATable(TypeError):
    """GX checks tables; the value saved is something else."""


def as_pandas(data: Any) -> Any:
    """A pandas DataFrame to validate: ``data`` itself, or ``data.to_pandas()`` (a
    polars DataFrame, an Arrow table)."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    convert = getattr(data, "to_pandas", None)
    if callable(convert):
        frame = convert()
        if isinstance(frame, pd.DataFrame):
            return frame
    raise NotATable(
        f"checks run on tables (a pandas DataFrame, or anything with to_pandas()), "
        f"not on a {type(data).__module__}.{type(data).__qualname__}"
    )
