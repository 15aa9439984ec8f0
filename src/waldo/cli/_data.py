"""``waldo data``: the Dolt database's history, branches and row-level diffs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.table import Table

from waldo._errors import ConfigError, InvalidInput, RunNotFound
from waldo.cli._context import CliState, _read_yaml
from waldo.cli._render import FORMAT, console, print_json
from waldo.journal import find_project_root
from waldo.kedro._dolt_client import call, database_from_config

COMMIT_EVENT = "dolt_commit"  # the event the Dolt hooks record (waldo.kedro.dolt)


def _database(state: CliState) -> str:
    root = find_project_root(state.project)
    conf: dict[str, Any] = {}
    for folder in ("base", state.env or "local"):
        conf.update(_read_yaml(root / "conf" / folder / "waldo.yml"))
    path = database_from_config(root, conf)
    if path is None:
        raise ConfigError(
            "No Dolt database configured: add `dolt: {database: data/warehouse.db}` "
            "to conf/base/waldo.yml."
        )
    if not Path(path).exists():
        raise ConfigError(f"The Dolt database {path} does not exist yet; run the pipeline.")
    return str(path)


def _commit_for(state: CliState, ref: str) -> str:
    """A run id (or prefix, or ``latest``) recorded in the journal -> its Dolt commit."""
    try:
        events = state.journal.history.events(ref, [COMMIT_EVENT])
    except RunNotFound:
        return ref
    found = [str(e.get("target_name")) for e in events if e.get("target_name")]
    if not found:
        raise InvalidInput(
            f"Run {ref} made no Dolt commit (it failed, changed no table, or ran without "
            "`dolt:` in waldo.yml); `waldo data log TABLE` lists the commits."
        )
    return found[-1]


@click.group("data")
def data() -> None:
    """Versioned tables in the Dolt database (`dolt:` in waldo.yml)."""


@data.command("log")
@click.argument("table")
@click.option("--branch", default=None, help="The branch whose history to show.")
@FORMAT
@click.pass_obj
def data_log(state: CliState, table: str, branch: str | None, fmt: str) -> None:
    """The commits that changed TABLE, newest first."""
    entries = call("log", database=_database(state), table=table, branch=branch)
    if fmt == "json":
        print_json(entries)
        return
    if not entries:
        click.echo(f"No commit changed {table}.")
        return
    grid = Table("commit", "date", "message")
    for e in entries:
        grid.add_row(str(e["commit_hash"])[:12], str(e["date"]), str(e["message"]).split("\n")[0])
    console().print(grid)


@data.command("branches")
@FORMAT
@click.pass_obj
def data_branches(state: CliState, fmt: str) -> None:
    """The branches of the Dolt database and their latest commits."""
    found = call("branches", database=_database(state))
    if fmt == "json":
        print_json(found)
        return
    grid = Table("branch", "commit", "date", "message")
    for b in found:
        grid.add_row(
            b["name"], str(b["hash"])[:12], str(b["date"]), str(b["message"]).split("\n")[0]
        )
    console().print(grid)


@data.command("diff")
@click.argument("table")
@click.option("--from", "ref_from", required=True, help="Run id, commit or branch.")
@click.option("--to", "ref_to", required=True, help="Run id, commit or branch.")
@FORMAT
@click.pass_obj
def data_diff(state: CliState, table: str, ref_from: str, ref_to: str, fmt: str) -> None:
    """Row-level diff of TABLE: rows added, removed and modified (old -> new).

    --from and --to take a Waldo run id (its Dolt commit is looked up in the
    journal), a commit hash (or a unique prefix) or a branch name.
    """
    database = _database(state)
    result = call(
        "diff",
        database=database,
        table=table,
        **{"from": _commit_for(state, ref_from), "to": _commit_for(state, ref_to)},
    )
    if fmt == "json":
        print_json(result)
        return
    click.echo(
        f"{table}: {str(result['from'])[:12]} -> {str(result['to'])[:12]}  "
        f"+{len(result['added'])} -{len(result['removed'])} ~{len(result['modified'])}"
    )
    grid = Table("change", "key", "column", "old", "new")
    keys = result["primary_key"]
    for row in result["added"]:
        grid.add_row("added", _key(row, keys), "", "", _values(row, keys))
    for row in result["removed"]:
        grid.add_row("removed", _key(row, keys), "", _values(row, keys), "")
    for row in result["modified"]:
        for column, change in row["changes"].items():
            grid.add_row(
                "modified", _key(row["key"], keys), column, str(change["old"]), str(change["new"])
            )
    if grid.row_count:
        console().print(grid)


def _key(row: dict[str, Any], keys: list[str]) -> str:
    return ", ".join(f"{k}={row.get(k)}" for k in keys)


def _values(row: dict[str, Any], keys: list[str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in row.items() if k not in keys)
