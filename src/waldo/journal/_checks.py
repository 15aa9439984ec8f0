"""Data check results: what a check of a saved dataset found, as the journal keeps it.

An integration runs the checks (the Kedro plugin runs Great Expectations on the value a
node saved) and hands the journal one :class:`CheckResult` per expectation; the
recorder queues them as ``check_results`` rows (:meth:`CheckResult.row`) and
:func:`run_checks` reads them back. :func:`check_changes` compares two runs' results,
for ``waldo diff``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from waldo.store import Store
from waldo.store import checks as check_queries

PASSED, FAILED, ERROR = "passed", "failed", "error"
#: How many unexpected values a result keeps (GX lists up to 20; a few tell enough).
UNEXPECTED_KEPT = 5
_JSON_COLUMNS = ("kwargs", "observed_value", "unexpected_values")


def plain(value: Any) -> Any:
    """A value GX reported, as plain JSON: numpy scalars as numbers, NaN and NaT as
    None, timestamps as ISO text, anything else unknown as its text."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat() if value == value else None  # NaT is not equal to itself
    item = getattr(value, "item", None)  # a numpy scalar
    if callable(item):
        try:
            return plain(item())
        except (TypeError, ValueError):
            pass
    return None if _is_missing(value) else str(value)


def _is_missing(value: Any) -> bool:
    try:
        return bool(value != value)  # NaN, NaT, pandas.NA
    except (TypeError, ValueError):
        return False


@dataclass(frozen=True)
class CheckResult:
    """One expectation checked on one dataset in one run.

    ``node_name`` is None for a check run at the end of the pipeline; ``error`` says
    why a check could not run (``success`` is then False); ``duration_s`` is the time
    of the validation the result came from (a dataset's expectations run together).
    """

    run_id: str
    node_name: str | None
    dataset_name: str
    expectation: str
    kwargs: dict[str, Any]
    success: bool
    dataset_version: str | None = None
    observed_value: Any = None
    unexpected_count: int | None = None
    unexpected_values: list[Any] = field(default_factory=list)
    error: str | None = None
    suite: str | None = None
    on_failure: str = "warn"
    duration_s: float | None = None
    checked_at: float = field(default_factory=time.time)

    @property
    def outcome(self) -> str:
        """passed, failed, or error (the check could not run)."""
        if self.error is not None:
            return ERROR
        return PASSED if self.success else FAILED

    @property
    def label(self) -> str:
        """The expectation with its arguments: ``expect_x(column=id, max_value=5)``."""
        args = ", ".join(f"{k}={_short(v)}" for k, v in self.kwargs.items())
        return f"{self.expectation}({args})"

    @property
    def key(self) -> tuple[str | None, str, str]:
        """What identifies the same check in another run."""
        return (self.node_name, self.dataset_name, self.label)

    def observed_text(self) -> str:
        """What was found, in a few words: the error, the observed value, or how many
        values were unexpected and a few of them."""
        if self.error is not None:
            return self.error
        parts: list[str] = []
        if self.observed_value is not None:
            parts.append(f"observed {_short(self.observed_value)}")
        if self.unexpected_count:
            shown = ", ".join(_short(v) for v in self.unexpected_values)
            example = f", e.g. {shown}" if shown else ""
            parts.append(f"{self.unexpected_count} unexpected{example}")
        return "; ".join(parts) or ("ok" if self.success else "failed")

    def plain_values(self) -> dict[str, Any]:
        """Every field, the values GX reported made plain JSON."""
        values = asdict(self)
        values["kwargs"] = plain(self.kwargs)
        values["observed_value"] = plain(self.observed_value)
        values["unexpected_values"] = plain(self.unexpected_values[:UNEXPECTED_KEPT])
        count = self.unexpected_count
        values["unexpected_count"] = None if count is None else int(count)
        return values

    def row(self) -> dict[str, Any]:
        """The ``check_results`` row, its JSON columns as JSON text (wire-ready)."""
        row = self.plain_values()
        for name in _JSON_COLUMNS:
            if row[name] is not None:
                row[name] = json.dumps(row[name], separators=(",", ":"))
        return row

    def to_json(self) -> dict[str, Any]:
        data = self.plain_values()
        data.update(outcome=self.outcome, label=self.label, observed=self.observed_text())
        return data

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> CheckResult:
        checked = row["checked_at"]
        return cls(
            run_id=row["run_id"],
            node_name=row.get("node_name"),
            dataset_name=row["dataset_name"],
            expectation=row["expectation"],
            kwargs=dict(row.get("kwargs") or {}),
            success=bool(row["success"]),
            dataset_version=row.get("dataset_version"),
            observed_value=row.get("observed_value"),
            unexpected_count=row.get("unexpected_count"),
            unexpected_values=list(row.get("unexpected_values") or []),
            error=row.get("error"),
            suite=row.get("suite"),
            on_failure=row.get("on_failure") or "warn",
            duration_s=row.get("duration_s"),
            checked_at=checked.timestamp() if isinstance(checked, datetime) else float(checked),
        )


def _short(value: Any, limit: int = 40) -> str:
    """A value in a few characters; a GX suite parameter as ``$name``."""
    if isinstance(value, Mapping) and set(value) == {"$PARAMETER"}:
        return f"${value['$PARAMETER']}"
    text = value if isinstance(value, str) else repr(plain(value))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def run_checks(store: Store, run_id: str) -> list[CheckResult]:
    """The check results of a run (id resolved), in the order they were recorded."""
    return [CheckResult.from_row(r) for r in store.run(check_queries.check_results_of, run_id)]


def failed_check_counts(store: Store, run_ids: list[str]) -> dict[str, int]:
    """Failed (or errored) check results per run, for a few runs."""
    return store.run(check_queries.failed_check_counts, run_ids)


@dataclass(frozen=True)
class CheckChange:
    """A check whose outcome differs between two runs (None: not run in that run)."""

    node_name: str | None
    dataset_name: str
    label: str
    outcome_a: str | None
    outcome_b: str | None
    observed_a: str | None = None
    observed_b: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def check_changes(a: Iterable[CheckResult], b: Iterable[CheckResult]) -> list[CheckChange]:
    """The checks of two runs whose outcome changed, in the order of run ``b`` (then
    those only in ``a``). A check that ran twice in a run counts with its last result."""
    by_key_a = {r.key: r for r in a}
    by_key_b = {r.key: r for r in b}
    changes: list[CheckChange] = []
    for key in [*by_key_b, *(k for k in by_key_a if k not in by_key_b)]:
        ra, rb = by_key_a.get(key), by_key_b.get(key)
        outcome_a = ra.outcome if ra else None
        outcome_b = rb.outcome if rb else None
        if outcome_a == outcome_b:
            continue
        changes.append(
            CheckChange(
                node_name=key[0],
                dataset_name=key[1],
                label=key[2],
                outcome_a=outcome_a,
                outcome_b=outcome_b,
                observed_a=ra.observed_text() if ra else None,
                observed_b=rb.observed_text() if rb else None,
            )
        )
    return changes
