"""``waldo serve`` and ``waldo report``: the journal as web pages."""

from __future__ import annotations

from pathlib import Path

import click

from waldo.cli._context import CliState
from waldo.web import check_token, is_loopback, make_server, new_token, write_report


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="Port (0: any free port).",
)
@click.option(
    "--token",
    default=None,
    envvar="WALDO_WEB_TOKEN",
    help="Token every request must carry (16 characters or more); required (generated "
    "if not given) off loopback.",
)
@click.pass_obj
def serve(state: CliState, host: str, port: int, token: str | None) -> None:
    """Serve a read-only web page over the journal: the run list, each run's pipeline
    coloured by node status (updated live while it runs), timelines, errors and diffs.

    Bound to 127.0.0.1 by default; on any other address every request needs the token
    (printed at start), or gets 401.
    """
    check_token(token)
    journal = state.journal
    journal.store.ensure_schema()  # a bad store URL fails here, in one line
    if token is None and not is_loopback(host):
        token = new_token()
    server = make_server(journal.history, host, port, token)
    url = server.url + (f"?token={token}" if token else "")
    click.echo(f"Waldo is serving {journal.store.display_url} at {url} (Ctrl+C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@click.command()
@click.argument("run_id")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The HTML file to write (default: waldo-run-RUN_ID.html).",
)
@click.pass_obj
def report(state: CliState, run_id: str, output: Path | None) -> None:
    """Write a run's page as one self-contained HTML file that opens without a server.

    RUN_ID may be a full run id, a unique prefix, or `latest`.
    """
    history = state.journal.history
    resolved = history.resolve_run_id(run_id)
    path = output or Path(f"waldo-run-{resolved.replace(':', '-')}.html")
    write_report(history, resolved, path)
    click.echo(f"Wrote {path}")
