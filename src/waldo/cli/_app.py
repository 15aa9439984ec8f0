"""The ``waldo`` command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import click

from waldo._errors import ConfigError, InvalidInput
from waldo._version import __version__
from waldo.cli._check_render import failed_check_lines, outcome_counts
from waldo.cli._checks import checks
from waldo.cli._collect import RUN_KINDS, collect, recent_runs
from waldo.cli._context import CliState
from waldo.cli._data import data
from waldo.cli._errors import WaldoGroup
from waldo.cli._export import export
from waldo.cli._render import (
    COUNT,
    FORMAT,
    console,
    diff_table,
    print_json,
    runs_table,
    show_run,
    status_table,
)
from waldo.cli._results import results
from waldo.cli._sync import sync
from waldo.cli._web import report, serve
from waldo.dpo import dpo
from waldo.journal import RUN_STATUSES, find_project_root
from waldo.store import mask_url


@click.group(
    cls=WaldoGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="The journal is found from --db, else WALDO_DB_URL, else conf/<env>/waldo.yml, "
    "else credentials.yml `postgres: con:`, else .waldo/waldo.db in the project.",
)
@click.option(
    "-C",
    "--project",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="The project folder (default: the Kedro project around the current folder).",
)
@click.option(
    "--env", default=None, help="Kedro environment whose waldo.yml to read (default: local)."
)
@click.option(
    "--db", default=None, metavar="URL", help="Journal database URL; overrides the configuration."
)
@click.version_option(__version__, prog_name="waldo")
@click.pass_context
def app(ctx: click.Context, project: Path | None, env: str | None, db: str | None) -> None:
    """Waldo: the flight recorder of your data pipelines.

    Every `kedro run` in a project with Waldo installed is recorded. Start with
    `waldo demo`, then `waldo runs` and `waldo show latest`.
    """
    ctx.obj = CliState(project, env, db)


@app.command()
@click.option(
    "-n", "--limit", type=COUNT, default=20, show_default=True, help="How many runs to list."
)
@click.option("--status", type=click.Choice(RUN_STATUSES), help="Only runs with this status.")
@click.option("--pipeline", default=None, help="Only runs of this pipeline.")
@click.option(
    "--kind",
    type=click.Choice(RUN_KINDS),
    default=None,
    help="Only Kedro runs, DPO executions, or runs collected from other tools.",
)
@FORMAT
@click.pass_obj
def runs(
    state: CliState,
    limit: int,
    status: str | None,
    pipeline: str | None,
    kind: str | None,
    fmt: str,
) -> None:
    """List recent runs: kind, status, duration, pipeline, nodes ok/failed.

    Runs collected from other tools (`waldo collect`) are listed with kind collected.
    """
    found = recent_runs(state.journal, limit, status, pipeline, kind)
    if fmt == "json":
        print_json([r.to_json() for r in found])
        return
    if not found:
        click.echo("No runs recorded yet. Run your pipeline (`kedro run`) or try `waldo demo`.")
        return
    console().print(runs_table(found))


@app.command()
@click.argument("run_id")
@FORMAT
@click.pass_obj
def show(state: CliState, run_id: str, fmt: str) -> None:
    """Show one run: its nodes in order with timings, status, errors and datasets.

    RUN_ID may be a full run id, a unique prefix, or `latest`.
    """
    history = state.journal.history
    detail = history.run_detail(run_id)
    results = history.checks(detail.summary.run_id)
    if fmt == "json":
        print_json({**detail.to_json(), "checks": [r.to_json() for r in results]})
        return
    out = console()
    show_run(detail, out, failed_check_lines(results), outcome_counts(results) if results else None)


def _names(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, ...]:
    """A comma-separated option, as `kedro run` splits it."""
    return tuple(item.strip() for item in (value or "").split(",") if item.strip())


def _runtime_params(ctx: click.Context, param: click.Parameter, value: str) -> dict[str, Any]:
    """--params as `kedro run` reads it: `key=value` items, comma-separated, typed and
    nested (`a.b=1`) by OmegaConf, so the values fingerprint as in the run."""
    dotlist = []
    for item in _names(ctx, param, value):
        key, equals, val = item.partition("=")
        if not equals or not key.strip():
            raise click.BadParameter(f"{item!r} is not KEY=VALUE.", ctx, param)
        dotlist.append(f"{key.strip()}={val}")
    if not dotlist:
        return {}
    from omegaconf import OmegaConf

    return dict(OmegaConf.to_container(OmegaConf.from_dotlist(dotlist)))  # type: ignore[arg-type]


def _selection_options(command: Any) -> Any:
    """`kedro run`'s options that choose what runs (and with which parameters)."""
    options = [
        click.option(
            "-p",
            "--pipeline",
            "pipeline",
            default=None,
            help="The pipeline to run (default: __default__).",
        ),
        click.option(
            "--pipelines", default="", callback=_names, help="Several pipelines, comma-separated."
        ),
        click.option(
            "-e",
            "--env",
            "run_env",
            default=None,
            help="Kedro environment (default: the global --env, else local).",
        ),
        click.option(
            "--params",
            default="",
            metavar="KEY=VALUE,...",
            callback=_runtime_params,
            help="Runtime parameters, as `kedro run --params` "
            "(waldo_branch=NAME or dolt_branch=NAME: run on a data branch).",
        ),
        click.option(
            "-t",
            "--tags",
            default="",
            callback=_names,
            help="Only nodes with these tags (comma-separated).",
        ),
        click.option(
            "-n",
            "--nodes",
            "--node-names",
            "node_names",
            default="",
            callback=_names,
            help="Only these nodes (comma-separated).",
        ),
        click.option(
            "--from-nodes",
            default="",
            callback=_names,
            help="Only these nodes and what depends on them.",
        ),
        click.option(
            "--to-nodes",
            default="",
            callback=_names,
            help="Only these nodes and what they depend on.",
        ),
        click.option(
            "--from-inputs",
            default="",
            callback=_names,
            help="Only nodes downstream of these datasets.",
        ),
        click.option(
            "--to-outputs",
            default="",
            callback=_names,
            help="Only nodes upstream of these datasets.",
        ),
        click.option(
            "--namespaces", default="", callback=_names, help="Only nodes in these namespaces."
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@app.command()
@_selection_options
@click.option("--all", "show_all", is_flag=True, help="Also list the nodes that are up to date.")
@click.option("-v", "--verbose", is_flag=True, help="Also show Kedro's own logging.")
@FORMAT
@click.pass_obj
def status(
    state: CliState,
    pipeline: str | None,
    pipelines: tuple[str, ...],
    run_env: str | None,
    params: dict[str, Any],
    tags: tuple[str, ...],
    node_names: tuple[str, ...],
    from_nodes: tuple[str, ...],
    to_nodes: tuple[str, ...],
    from_inputs: tuple[str, ...],
    to_outputs: tuple[str, ...],
    namespaces: tuple[str, ...],
    show_all: bool,
    verbose: bool,
    fmt: str,
) -> None:
    """What `kedro run` with the same options would run now, node by node, and why.

    Takes `kedro run`'s selection options (--pipeline, --env, --params, --tags,
    --nodes, --from-nodes, --to-nodes, ...) and compares each selected node's code,
    parameters, catalog entries and inputs with its last successful run in the
    journal; `waldo run` (an incremental `kedro run`) with the same options runs
    exactly the nodes marked to run. On a data branch (--params waldo_branch=NAME, or
    `branch: {from: git}` in waldo.yml) the branch copies of files count.

    \b
    Examples:
      waldo status
      waldo status --pipeline main --params threshold=4
      waldo status --env dev --params waldo_branch=exp --format json
    """
    try:
        from waldo.kedro._status import Selection, project_status
    except ImportError as exc:
        raise ConfigError(
            f"`waldo status` needs Kedro: pip install 'waldo[kedro]' ({exc})"
        ) from exc
    root = find_project_root(state.project)
    chosen = ((pipeline,) if pipeline else ()) + tuple(pipelines)
    selection = Selection(
        pipelines=chosen,
        env=run_env or state.env,
        params=params,
        tags=tags,
        node_names=node_names,
        from_nodes=from_nodes,
        to_nodes=to_nodes,
        from_inputs=from_inputs,
        to_outputs=to_outputs,
        namespaces=namespaces,
    )
    report = project_status(root, selection, verbose, store_url=state.db)
    decisions = report.decisions
    if fmt == "json":
        print_json(
            {
                "pipeline": report.pipeline,
                "branch": report.branch,
                "to_run": sum(d.run for d in decisions),
                "waiting": sum(bool(d.waits_on) for d in decisions),
                "nodes": [
                    {
                        "node": d.node,
                        "stale": d.run,
                        "reasons": d.reasons,
                        "last_run": d.last_run_id,
                        "waits_on": [u.dataset for u in d.waits_on],
                    }
                    for d in decisions
                ],
            }
        )
        return
    console().print(status_table(report.pipeline, decisions, report.branch, show_all))


@app.command()
@click.argument("run_a")
@click.argument("run_b")
@click.option("--all", "show_all", is_flag=True, help="Also list nodes that did not change.")
@FORMAT
@click.pass_obj
def diff(state: CliState, run_a: str, run_b: str, show_all: bool, fmt: str) -> None:
    """What differs between two runs: nodes added or removed, code, parameters, data
    versions, status and timings. RUN_A and RUN_B accept ids, prefixes or `latest`."""
    result = state.journal.history.diff(run_a, run_b)
    if fmt == "json":
        print_json(result.to_json())
        return
    console().print(diff_table(result, show_all))


INCREMENTAL_RUNNERS = {
    None: "waldo.kedro.IncrementalRunner",
    "SequentialRunner": "waldo.kedro.IncrementalRunner",
    "ThreadRunner": "waldo.kedro.IncrementalThreadRunner",
    "ParallelRunner": "waldo.kedro.IncrementalParallelRunner",
}


@app.command(
    "run",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
@click.option(
    "-r",
    "--runner",
    default=None,
    help="SequentialRunner (default), ThreadRunner or ParallelRunner: the incremental "
    "runner with the same semantics is used.",
)
@click.pass_context
def run(ctx: click.Context, runner: str | None) -> None:
    """Run only the stale nodes of a Kedro project (an incremental `kedro run`).

    Any other `kedro run` option is passed on: --pipeline, --tags, --nodes,
    --from-nodes, --to-nodes, --from-inputs, --to-outputs, --params, --env, --async.
    `waldo status` shows beforehand what will run and why.
    """
    name = runner.rsplit(".", 1)[-1] if runner else None
    if name is not None and name.startswith("Incremental"):
        chosen = runner
    elif name in INCREMENTAL_RUNNERS:
        chosen = INCREMENTAL_RUNNERS[name]
    else:
        raise click.UsageError(
            f"--runner {runner}: use SequentialRunner, ThreadRunner or ParallelRunner."
        )
    state: CliState = ctx.obj
    root = find_project_root(state.project)
    command = [sys.executable, "-m", "kedro", "run", "--runner", str(chosen)]
    if state.env:
        command += ["--env", state.env]
    ctx.exit(subprocess.call([*command, *ctx.args], cwd=root))


@app.group(cls=WaldoGroup)
def db() -> None:
    """Create, migrate and inspect the journal's schema."""


@db.command("upgrade")
@click.argument("revision", default="head")
@click.pass_obj
def db_upgrade(state: CliState, revision: str) -> None:
    """Create the tables or migrate them to REVISION (default: the newest)."""
    before, after = state.journal.upgrade(revision)
    where = mask_url(state.journal.settings.store_url)
    if before == after:
        click.echo(f"{where} is already at revision {after}.")
    else:
        click.echo(f"Migrated {where} from {before or 'an empty database'} to {after}.")


@db.command("downgrade", context_settings={"ignore_unknown_options": True})
@click.argument("revision")
@click.pass_obj
def db_downgrade(state: CliState, revision: str) -> None:
    """Migrate the schema down to REVISION: a revision id, -1 for one step, or `base`
    (which removes every table)."""
    before, after = state.journal.downgrade(revision)
    click.echo(
        f"Migrated {mask_url(state.journal.settings.store_url)} from {before} to {after or 'base'}."
    )


@db.command("current")
@click.pass_obj
def db_current(state: CliState) -> None:
    """Print the schema revision of the journal and where it is."""
    journal = state.journal
    current = journal.store.current_revision()
    head = journal.store.head_revision()
    click.echo(
        f"{mask_url(journal.settings.store_url)} (from {journal.settings.source}): "
        f"revision {current or 'none'}, newest {head}"
    )


@db.command("history")
@click.pass_obj
def db_history(state: CliState) -> None:
    """List the schema revisions, newest first; the journal's own is marked (current)."""
    journal = state.journal
    current = journal.store.current_revision()
    for each in journal.store.history():
        mark = " (current)" if each.revision == current else ""
        click.echo(f"{each.down_revision or '<base>'} -> {each.revision}{mark}, {each.message}")


@db.command("alembic-ini")
def db_alembic_ini() -> None:
    """Print the path of the shipped alembic.ini, for `alembic -c PATH -x URL upgrade head`."""
    from waldo.store import Store

    click.echo(Store.alembic_ini())


@app.command()
@click.argument("path", type=click.Path(path_type=Path), default=Path("waldo-demo"))
@click.option("--force", is_flag=True, help="Replace the folder if it exists.")
@click.option(
    "--runs",
    "run_count",
    type=click.IntRange(1, 100),
    default=2,
    show_default=True,
    help="How many times to run it.",
)
@click.option(
    "--example",
    type=click.Choice(["orders", "outliers"]),
    default="orders",
    show_default=True,
    help="orders: pandas nodes over CSV and Parquet files; outliers: three scikit-learn "
    "detectors whose scores go to the results store and are compared.",
)
def demo(path: Path, force: bool, run_count: int, example: str) -> None:
    """Create a small Kedro project in PATH offline, run it, and show the journal.

    The default project has a few pandas nodes reading and writing CSV and Parquet
    files and a parameter; it is run twice and the recorded runs are printed. With
    `--example outliers` it is the original plugin's outlier example: run once, then
    the three algorithms' results are compared (`waldo results`).
    """
    try:
        from waldo.kedro._demo import run_demo
        from waldo.kedro._outliers_demo import run_outliers_demo
    except ImportError as exc:
        raise ConfigError(f"The demo needs Kedro: `pip install 'waldo[kedro]'` ({exc}).") from exc
    if example == "outliers" and path == Path("waldo-demo"):
        path = Path("waldo-outliers")
    try:
        if example == "outliers":
            run_outliers_demo(path, force=force, echo=click.echo)
        else:
            run_demo(path, force=force, run_count=run_count, echo=click.echo)
    except OSError as exc:  # a folder that cannot be made or written: say which
        raise InvalidInput(
            f"Cannot write the demo project in {path}: {exc.strerror or exc}."
        ) from exc


app.add_command(dpo)  # `waldo dpo ...`: the DPO commands (waldo.dpo)
app.add_command(data)  # `waldo data ...`: versioned tables with Dolt (waldo.cli._data)
app.add_command(results)  # `waldo results ...`: model results (waldo.cli._results)
app.add_command(serve)  # `waldo serve`: the web page (waldo.web)
app.add_command(report)  # `waldo report`: a run page as one HTML file (waldo.web)
app.add_command(export)  # `waldo export openlineage` (waldo.lineage)
app.add_command(collect)  # `waldo collect ...`: collector plugins (waldo.collect)
app.add_command(checks)  # `waldo checks`: data check results (waldo.cli._checks)
app.add_command(sync)  # `waldo sync`: replay the spool (waldo.cli._sync)


def main(argv: list[str] | None = None) -> Any:
    """Entry point of the ``waldo`` command."""
    return app.main(args=argv, prog_name="waldo")
