"""How ``waldo show`` and ``waldo diff`` show data check results (``waldo checks`` too)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text

from waldo.journal import CheckChange, CheckResult

OUTCOME_STYLE = {"passed": "green", "failed": "bold red", "error": "yellow"}


def outcome_text(outcome: str | None) -> Text:
    return Text(outcome or "-", style=OUTCOME_STYLE.get(outcome or "", "dim"))


def outcome_counts(results: Sequence[CheckResult]) -> str:
    """``3 passed, 1 failed, 1 error``."""
    counts = {"passed": 0, "failed": 0, "error": 0}
    for result in results:
        counts[result.outcome] += 1
    return ", ".join(f"{n} {outcome}" for outcome, n in counts.items() if n) or "none"


def failed_check_lines(results: Sequence[CheckResult]) -> dict[str | None, list[Text]]:
    """What ``waldo show`` prints under each node (None: at the end of the pipeline)
    for every check that failed or could not run."""
    lines: dict[str | None, list[Text]] = {}
    for result in results:
        if result.outcome == "passed":
            continue
        text = Text.assemble(
            ("    ", ""),
            (f"check {result.outcome}", OUTCOME_STYLE[result.outcome]),
            f" {result.dataset_name}: {result.label}: {result.observed_text()}",
        )
        lines.setdefault(result.node_name, []).append(text)
    return lines


def check_change_rows(table: Table, changes: Sequence[CheckChange]) -> None:
    """``waldo diff``: a row per check whose outcome changed, with what it found."""
    for change in changes:
        where = change.dataset_name + (f" ({change.node_name})" if change.node_name else "")
        table.add_row(
            f"check {where}",
            Text("check", style="yellow"),
            outcome_text(change.outcome_a),
            outcome_text(change.outcome_b),
        )
        observed = change.observed_b if change.outcome_b else change.observed_a
        table.add_row("", Text(f"  {change.label}: {observed or ''}", style="dim"), "", "")
