"""``waldo serve`` and ``waldo report``: the journal as web pages (and a static site)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from waldo._errors import WaldoError
from waldo.cli._context import CliState
from waldo.journal import find_project_root
from waldo.web import (
    StatusReport,
    StatusSource,
    check_token,
    is_loopback,
    make_server,
    new_token,
    site_options,
    write_report,
    write_site,
)
from waldo.web._site import DEFAULT_KEEP

REPO_URL = click.option(
    "--repo-url",
    default=None,
    metavar="URL",
    help="The repository's web page, to link git shas to their commits "
    "(default: the project's `origin` remote, when it is on a web host).",
)


def _is_kedro_project(root: Path) -> bool:
    pyproject = root / "pyproject.toml"
    return pyproject.is_file() and "[tool.kedro]" in pyproject.read_text(errors="replace")


def kedro_status_source(project: Path | None, env: str | None) -> StatusSource | None:
    """What `waldo status` says, for the /status page; None outside a Kedro project or
    without Kedro installed (the page then says why it has nothing to show)."""
    root = find_project_root(project)
    if not _is_kedro_project(root):
        return None
    try:
        from waldo.kedro._snapshots import pipeline_content
        from waldo.kedro._status import Selection, project_status
    except ImportError:
        return None

    def source(pipeline: str | None) -> StatusReport:
        try:
            return _report(pipeline)
        except WaldoError:
            raise
        except Exception as exc:  # the project's own code failed to load: say so
            raise WaldoError(f"Cannot check the Kedro project at {root}: {exc}") from exc

    def _report(pipeline: str | None) -> StatusReport:
        selection = Selection(pipelines=(pipeline,) if pipeline else (), env=env)
        status = project_status(root, selection)
        from kedro.framework.project import pipelines  # registered by project_status

        registry: Any = pipelines
        return StatusReport(
            pipeline=status.pipeline,
            pipelines=sorted(registry),
            nodes=[
                {"node": d.node, "stale": d.run, "reasons": d.reasons, "last_run": d.last_run_id}
                for d in status.decisions
            ],
            graph=pipeline_content(registry[status.pipeline])["nodes"],
        )

    return source


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
@REPO_URL
@click.pass_obj
def serve(state: CliState, host: str, port: int, token: str | None, repo_url: str | None) -> None:
    """Serve a read-only web page over the journal: the run list, each run's pipeline
    coloured by node status (updated live while it runs), charts, errors, diffs, and
    inside a Kedro project what would re-run and why (/status).

    Bound to 127.0.0.1 by default; on any other address every request needs the token
    (printed at start), or gets 401.
    """
    check_token(token)
    journal = state.journal
    journal.store.ensure_schema()  # a bad store URL fails here, in one line
    if token is None and not is_loopback(host):
        token = new_token()
    status = kedro_status_source(state.project, state.env)
    server = make_server(journal.history, host, port, token, status=status, repo_url=repo_url)
    url = server.url + (f"?token={token}" if token else "")
    click.echo(f"Waldo is serving {journal.store.display_url} at {url} (Ctrl+C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@click.command()
@click.argument("run_id", required=False)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The HTML file to write (default: waldo-run-RUN_ID.html).",
)
@click.option(
    "--site",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Write a static site here instead: index.html and a page per run under runs/.",
)
@click.option(
    "--keep",
    type=click.IntRange(min=1),
    default=None,
    help="With --site: how many of the latest runs get a page (default: static_site.keep "
    f"in waldo.yml, else {DEFAULT_KEEP}).",
)
@REPO_URL
@click.pass_obj
def report(
    state: CliState,
    run_id: str | None,
    output: Path | None,
    site: Path | None,
    keep: int | None,
    repo_url: str | None,
) -> None:
    """Write a run's page as one self-contained HTML file that opens without a server.

    RUN_ID may be a full run id, a unique prefix, or `latest`. With --site DIR, write
    a static site of the latest runs instead (what `static_site:` in waldo.yml writes
    after every run): an index and one such page per run, older pages removed.
    """
    history = state.journal.history
    if site is not None:
        if run_id is not None or output is not None:
            raise click.UsageError("--site writes every recent run: give no RUN_ID nor --output.")
        written = write_site(history, site, keep or _configured_keep(state), refresh=["*"])
        click.echo(
            f"Wrote {site / 'index.html'} and {len(written.written)} run page(s) "
            f"({written.removed} old page(s) removed)."
        )
        return
    if run_id is None:
        raise click.UsageError("Give a RUN_ID (or `latest`), or --site DIR.")
    resolved = history.resolve_run_id(run_id)
    path = output or Path(f"waldo-run-{resolved.replace(':', '-')}.html")
    write_report(history, resolved, path, repo_url=repo_url)
    click.echo(f"Wrote {path}")


def _configured_keep(state: CliState) -> int:
    """``static_site.keep`` of waldo.yml when it is there, else the default."""
    settings = state.journal.settings
    raw = settings.extra.get("static_site")
    return site_options(raw, settings.project_path).keep if raw else DEFAULT_KEEP
