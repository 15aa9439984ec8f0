"""``waldo sync``: write the rows the local spool kept while the store was unreachable."""

from __future__ import annotations

import click

from waldo._errors import WaldoError
from waldo.cli._context import CliState
from waldo.store import ReplayReport, mask_url


@click.command()
@click.option(
    "--any-store",
    is_flag=True,
    help="Also write rows that were spooled for another store URL into this one.",
)
@click.pass_obj
def sync(state: CliState, any_store: bool) -> None:
    """Replay journal rows kept in the local spool while the database was unreachable.

    Each spooled batch is written exactly once, however often sync runs. Rows remember
    the store they were meant for; only that store's rows are replayed unless
    --any-store is given. Lines set aside as corrupt (*.corrupt in the spool folder)
    are written too once they parse, e.g. after you repaired them.
    """
    journal = state.journal
    where = mask_url(journal.settings.store_url)
    pending = journal.pending(any_store)
    corrupt = journal.corrupt(any_store)
    elsewhere = 0 if any_store else journal.pending_elsewhere()
    if not pending and not corrupt:
        if elsewhere:
            click.echo(f"Nothing to sync into {where}: {_elsewhere(elsewhere)}")
        else:
            click.echo("Nothing to sync: the spool is empty.")
        return
    report = journal.sync(any_store)
    click.echo(written_line(report, where))
    if report.corrupt_lines:
        click.echo(
            f"Skipped {report.corrupt_lines} corrupt line(s) that do not parse: they wait "
            f"in {journal.settings.spool_dir}/*.corrupt; repair them and run `waldo sync` "
            "again.",
            err=True,
        )
    if elsewhere:
        click.echo(f"Skipped {_elsewhere(elsewhere)}", err=True)
    if report.failed_files:
        raise WaldoError(
            f"{len(report.failed_files)} spool file(s) could not be written: "
            f"{report.errors[0]}; they stay in the spool for the next sync."
        )


def written_line(report: ReplayReport, where: str) -> str:
    """How many rows this sync wrote, and how many the store already had."""
    sent = report.written + report.already
    line = f"Wrote {report.written} of {sent} spooled row(s) into {where}"
    if report.repaired:
        line += f" ({report.repaired} from repaired corrupt lines)"
    if report.already:
        line += (
            f"; {report.already} were already there (their batches had been written "
            "before, and each is written once)"
        )
    return line + "."


def _elsewhere(rows: int) -> str:
    return (
        f"{rows} spooled row(s) belong to another store; run `waldo --db URL sync` with "
        "that store (or --any-store) to write them."
    )
