"""The DPO command line: ``python -m waldo.dpo [--log-level LEVEL] [DB_URL] COMMAND [ARGS]``.

The same group is ``waldo dpo ...``. The contract, made for shell capture
(``id=$(python -m waldo.dpo init-execution)``):

- stdout carries only the answer, one line: an id, an ISO-8601 timestamp with time
  zone (``2026-11-22T23:42:42.123456+00:00``, UTC, from the database clock), or the
  changed model names joined by ``--separator`` (default ``,``, as the seed says);
  commands that answer nothing print nothing;
- when there is no successful execution, ``get-last-successful-execution`` prints an
  empty line (the sentinel, the seed's "empty string") and exits 0; that empty string
  (and the seed's older ``NO_LAST_SUCCESSFUL_EXECUTION``) is accepted back as the
  previous execution of ``compare-step-models`` (every model is then new) and by
  ``get-execution-completion-timestamp`` (which prints an empty line);
- exit status 0 on success, 2 for input the user must fix (a malformed or unknown id,
  a base path that is not a folder, a bad pattern, two models with the same name, a
  step on a completed execution, a usage error), 1 when the store cannot be reached or
  fails; errors are one line on stderr, never a traceback;
- logs go to stderr (``--log-level``, default WARNING).

DB_URL is optional: without it the store is found as for every ``waldo`` command
(``--db`` of ``waldo``, ``WALDO_DB_URL``, the project's ``waldo.yml`` or credentials,
else ``.waldo/waldo.db`` in the project around the current folder; outside a project,
with neither, the command says so and creates nothing).
"""

from __future__ import annotations

import logging
import sys
from datetime import timezone
from pathlib import Path
from typing import Any

import click

from waldo._errors import (
    ConfigError,
    ExecutionStateError,
    InvalidInput,
    RunNotFound,
    StepNotFound,
    WaldoError,
)
from waldo.journal import Executions, Settings, is_no_execution
from waldo.store import Store

LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
STAT_CACHE_FILE = "statcache.db"
BIGINT_MAX = 2**63 - 1
_USER_ERRORS = (InvalidInput, RunNotFound, StepNotFound, ExecutionStateError, ConfigError)


class DpoError(click.ClickException):
    """A Waldo error as one line on stderr: exit 2 for the user's input, 1 otherwise."""

    def __init__(self, error: WaldoError) -> None:
        super().__init__(str(error))
        self.exit_code = 2 if isinstance(error, _USER_ERRORS) else 1  # type: ignore[misc]

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def _looks_like_url(text: str) -> bool:
    return "://" in text or text.startswith("sqlite:")


class DpoGroup(click.Group):
    """Takes an optional DB_URL before the command, and turns errors into one line."""

    _OPTIONS_WITH_VALUE = frozenset({"-l", "--log-level"})

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        args = list(args)
        index = 0
        while index < len(args):
            token = args[index]
            if token == "--":
                break
            if token in self._OPTIONS_WITH_VALUE:
                index += 2
                continue
            if token.startswith("-"):
                index += 1
                continue
            if token not in self.commands and _looks_like_url(token):
                ctx.meta["waldo.dpo.db_url"] = args.pop(index)
            break
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except WaldoError as exc:
            raise DpoError(exc) from exc


class DpoState:
    """The store and settings a DPO command works on, resolved on first use."""

    def __init__(self, db_url: str | None, parent: Any) -> None:
        self.db_url = db_url
        self.parent = parent  # the `waldo` group's state when run as `waldo dpo`
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from waldo.cli._context import cli_settings  # the `waldo` CLI's resolution

            project = getattr(self.parent, "project", None)
            env = getattr(self.parent, "env", None)
            db = self.db_url or getattr(self.parent, "db", None)
            self._settings = cli_settings(project, env, db)
        return self._settings

    @property
    def executions(self) -> Executions:
        return Executions(Store(self.settings.store_url))

    def default_stat_cache(self) -> Path:
        return self.settings.project_path / ".waldo" / STAT_CACHE_FILE


def _configure_logging(level: str) -> None:
    logger = logging.getLogger("waldo")
    logger.setLevel(level)
    for each in logger.handlers:
        if getattr(each, "_waldo_dpo", False) and isinstance(each, logging.StreamHandler):
            each.setStream(sys.stderr)  # the current stderr (tests swap it)
            each.setLevel(level)
            return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    handler.setLevel(level)
    handler._waldo_dpo = True  # type: ignore[attr-defined]
    logger.addHandler(handler)


@click.group(
    cls=DpoGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    options_metavar="[--log-level LEVEL] [DB_URL]",
    epilog="DB_URL (e.g. postgresql://user:pass@host:5432/db or sqlite:///path.db) may come "
    "before the command; without it the store is found as for `waldo`. Ids are UUIDs. "
    "Exit status 2 means bad input (malformed or unknown id, base path not a folder).",
)
@click.option(
    "-l",
    "--log-level",
    type=click.Choice(LOG_LEVELS, case_sensitive=False),
    default="WARNING",
    show_default=True,
    help="Logging level of the messages on stderr.",
)
@click.pass_context
def dpo(ctx: click.Context, log_level: str) -> None:
    """Track executions and steps of any pipeline and detect changed models.

    \b
    id=$(python -m waldo.dpo "$DB" init-execution)
    last=$(python -m waldo.dpo "$DB" get-last-successful-execution)
    step=$(python -m waldo.dpo "$DB" init-step "$id" LOAD ./load '**/*.sql')
    changed=$(python -m waldo.dpo "$DB" compare-step-models "$step" "$last")
    python -m waldo.dpo "$DB" complete-step "$step" --rows-processed 1200
    python -m waldo.dpo "$DB" complete-execution "$id"
    """
    _configure_logging(log_level.upper())
    ctx.obj = DpoState(ctx.meta.get("waldo.dpo.db_url"), ctx.obj)


@dpo.command("init-execution")
@click.argument("execution_id", required=False)
@click.pass_obj
def init_execution(state: DpoState, execution_id: str | None) -> None:
    """Start an execution; print its id (a new UUID, or EXECUTION_ID if given)."""
    click.echo(state.executions.init_execution(execution_id))


@dpo.command("get-last-successful-execution")
@click.pass_obj
def get_last_successful_execution(state: DpoState) -> None:
    """Print the id of the last successfully completed execution, or an empty line."""
    click.echo(state.executions.last_successful() or "")


@dpo.command("get-execution-completion-timestamp")
@click.argument("execution_id")
@click.pass_obj
def get_execution_completion_timestamp(state: DpoState, execution_id: str) -> None:
    """Print when EXECUTION_ID completed, ISO-8601 with time zone (database clock).

    Given the empty sentinel (no successful execution), print an empty line.
    """
    if is_no_execution(execution_id):
        click.echo("")
        return
    when = state.executions.completion_timestamp(execution_id)
    click.echo(when.astimezone(timezone.utc).isoformat(timespec="microseconds"))


@dpo.command("init-step")
@click.argument("execution_id")
@click.argument("step_name")
@click.argument("base_path")
@click.argument("patterns", nargs=-1, required=True)
@click.option(
    "--model-names",
    type=click.Choice(["stem", "path"]),
    default="stem",
    show_default=True,
    help="Name models by file name without extension (the seed's rule: two files with "
    "the same name are an error) or by path relative to BASE_PATH.",
)
@click.option(
    "--stat-cache",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Stat cache file (default: .waldo/statcache.db in the project).",
)
@click.option("--no-stat-cache", is_flag=True, help="Read every file, trust no cached digest.")
@click.pass_obj
def init_step(
    state: DpoState,
    execution_id: str,
    step_name: str,
    base_path: str,
    patterns: tuple[str, ...],
    model_names: str,
    stat_cache: Path | None,
    no_stat_cache: bool,
) -> None:
    """Record the models of a step of EXECUTION_ID; print the step's id.

    Models are the files under BASE_PATH matching the PATTERNs (unix-style, relative to
    BASE_PATH, `**` for any folders: '**/*.sql' 'group1/*.csv'); quote the patterns so
    the shell does not expand them. Each is fingerprinted by content (xxh3-128).
    """
    cache = None if no_stat_cache else (stat_cache or state.default_stat_cache())
    step = state.executions.init_step(
        execution_id,
        step_name,
        base_path,
        patterns,
        cache_path=cache,
        naming="path" if model_names == "path" else "stem",
    )
    click.echo(step.step_id)


def _separator(text: str) -> str:
    return text.encode().decode("unicode_escape") if "\\" in text else text


@dpo.command("compare-step-models")
@click.argument("step_id")
@click.argument("previous_execution_id")
@click.option(
    "--separator",
    default=",",
    show_default=True,
    help=r"Between model names; backslash escapes work ('\n', '\t').",
)
@click.option(
    "--include-deleted", is_flag=True, help="Also list models the previous step had and this lacks."
)
@click.pass_obj
def compare_step_models(
    state: DpoState,
    step_id: str,
    previous_execution_id: str,
    separator: str,
    include_deleted: bool,
) -> None:
    """Print the models of STEP_ID that are new or changed since PREVIOUS_EXECUTION_ID.

    The step is compared with the step of the same name in the previous execution.
    Names are sorted and joined by the separator; nothing changed prints an empty line.
    """
    changes = state.executions.compare_step_models(step_id, previous_execution_id)
    click.echo(_separator(separator).join(changes.names(include_deleted)))


@dpo.command("complete-step")
@click.argument("step_id")
@click.argument("rows", required=False, type=click.IntRange(0, BIGINT_MAX), metavar="[ROWS]")
@click.option(
    "--rows-processed",
    type=click.IntRange(0, BIGINT_MAX),
    default=None,
    help=f"Rows the step processed (0 to {BIGINT_MAX}, a BIGINT).",
)
@click.option("--failed", is_flag=True, help="The step failed (status failed, not success).")
@click.pass_obj
def complete_step(
    state: DpoState, step_id: str, rows: int | None, rows_processed: int | None, failed: bool
) -> None:
    """Mark STEP_ID complete; ROWS (or --rows-processed) is the rows it processed."""
    if rows is not None and rows_processed is not None and rows != rows_processed:
        raise InvalidInput("Give the rows processed once: as ROWS or as --rows-processed.")
    state.executions.complete_step(step_id, rows_processed if rows is None else rows, failed=failed)


@dpo.command("complete-execution")
@click.argument("execution_id")
@click.option("--failed", is_flag=True, help="The execution failed: never the last successful one.")
@click.pass_obj
def complete_execution(state: DpoState, execution_id: str, failed: bool) -> None:
    """Mark EXECUTION_ID successfully complete; it becomes the last successful one."""
    state.executions.complete_execution(execution_id, failed=failed)


def main(argv: list[str] | None = None) -> Any:
    """Entry point of ``python -m waldo.dpo``."""
    return dpo.main(args=argv, prog_name="python -m waldo.dpo")
