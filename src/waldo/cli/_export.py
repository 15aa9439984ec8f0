"""``waldo export openlineage``: the journal's runs as OpenLineage events."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from waldo._errors import ConfigError
from waldo._format import parse_moment
from waldo.cli._context import CliState


@click.group()
def export() -> None:
    """Send the journal to other tools."""


@export.command("openlineage")
@click.option("--since", default=None, help="Only runs started at or after this date/time.")
@click.option("--until", default=None, help="Only runs started before this date/time.")
@click.option(
    "--transport",
    type=click.Choice(["console", "file", "http"]),
    default="console",
    show_default=True,
    help="Where the events go: printed, a file (one JSON event a line), or an HTTP server.",
)
@click.option("--path", type=click.Path(path_type=Path, dir_okay=False), help="file: the file.")
@click.option("--url", default=None, help="http: the server, e.g. http://localhost:5000.")
@click.option("--endpoint", default=None, help="http: the path (default api/v1/lineage).")
@click.option("--api-key", envvar="OPENLINEAGE_API_KEY", default=None, help="http: bearer key.")
@click.option("--namespace", default=None, help="Job and dataset namespace (default: project).")
@click.option(
    "--retries",
    type=click.IntRange(0, 20),
    default=5,
    show_default=True,
    help="http: tries more after a connection error or a 5xx answer, with back-off.",
)
@click.pass_obj
def openlineage(
    state: CliState,
    since: str | None,
    until: str | None,
    transport: str,
    path: Path | None,
    url: str | None,
    endpoint: str | None,
    api_key: str | None,
    namespace: str | None,
    retries: int,
) -> None:
    """Write each run as OpenLineage RunEvents: START and COMPLETE/FAIL for the pipeline
    and for every node that ran (with the parent run facet), inputs and outputs as
    datasets, through the official openlineage-python client and its transports."""
    try:
        from waldo.lineage import export_openlineage, make_client
    except ImportError as exc:
        raise ConfigError(
            f"OpenLineage export needs `pip install 'waldo[lineage]'` ({exc})."
        ) from exc
    start, end = parse_moment(since, "--since"), parse_moment(until, "--until")
    if transport == "console":  # the console transport logs each event: print them bare
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        console_log = logging.getLogger("openlineage.client.transport.console")
        console_log.addHandler(handler)
        console_log.setLevel(logging.INFO)
        console_log.propagate = False
    client = make_client(
        transport, url=url, endpoint=endpoint, path=path, api_key=api_key, retries=retries
    )
    runs, events = export_openlineage(state.journal.history, client, start, end, namespace)
    where = {"file": str(path), "http": str(url), "console": "the console"}[transport]
    click.echo(f"Sent {events} OpenLineage events for {runs} run(s) to {where}.", err=True)
