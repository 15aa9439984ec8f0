"""``waldo checks``: the data check results of a run."""

from __future__ import annotations

from collections.abc import Sequence

import click
from rich.table import Table

from waldo._format import fmt_duration
from waldo.cli._check_render import outcome_text
from waldo.cli._context import CliState
from waldo.cli._render import FORMAT, console, print_json
from waldo.journal import CheckResult


def checks_table(run_id: str, results: Sequence[CheckResult]) -> Table:
    """One row per result; the duration is its dataset's validation, shown once."""
    table = Table(title=f"Checks of run {run_id}", title_justify="left", header_style="bold")
    for column in ("node", "dataset", "version", "expectation", "outcome", "observed", "took"):
        table.add_column(column)
    last_validation = None
    for result in results:
        validation = (result.node_name, result.dataset_name, result.checked_at)
        took = fmt_duration(result.duration_s) if validation != last_validation else ""
        last_validation = validation
        table.add_row(
            result.node_name or "(pipeline end)",
            result.dataset_name,
            (result.dataset_version or "-")[:12],
            result.label,
            outcome_text(result.outcome),
            result.observed_text(),
            took,
        )
    return table


@click.command()
@click.argument("run_id", default="latest")
@click.option("--failed", is_flag=True, help="Only the checks that failed or could not run.")
@FORMAT
@click.pass_obj
def checks(state: CliState, run_id: str, failed: bool, fmt: str) -> None:
    """List the data check results of a run (default: the latest).

    One line per expectation checked on a dataset: the node that saved it, the
    dataset's version, the outcome (passed, failed, or error when the check could not
    run) and what was observed. Checks are declared under `checks:` in waldo.yml.
    RUN_ID may be a full run id, a unique prefix, or `latest`.
    """
    history = state.journal.history
    resolved = history.resolve_run_id(run_id)
    results = history.checks(resolved)
    if failed:
        results = [r for r in results if r.outcome != "passed"]
    if fmt == "json":
        print_json([r.to_json() for r in results])
        return
    if not results:
        what = "failed checks" if failed else "data checks"
        click.echo(
            f"No {what} in run {resolved}. Checks are declared under `checks:` in "
            "conf/<env>/waldo.yml (see the README)."
        )
        return
    console().print(checks_table(resolved, results))
