"""The DPO command line: ``dpo [--log-level LEVEL] [DB_URL] COMMAND [ARGS]``.

The same group is ``python -m waldo.dpo``, ``python -m dpo`` (the seed's spelling) and
``waldo dpo ...``. It takes the seed's full command set, with both spellings where the
seed uses two: ``get-execution-completion-timestamp`` and
``get-execution-last-updated-timestamp``, ``init-step`` and ``persist-models``,
``compare-step-models`` and ``compare-models``. The contract, made for shell capture
(``id=$(dpo "$DB" init-execution)``):

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
- warnings go to stderr as ``warning: ...`` lines whatever the log level: a pattern that
  matches no file (an error with ``--strict``), a step with no same-named step in the
  previous execution;
- logs go to stderr (``--log-level``, default INFO as in the seed; Waldo logs its
  routine details at DEBUG, so INFO stays quiet).

DB_URL is optional: without it the store is found as for every ``waldo`` command
(``--db`` of ``waldo``, ``WALDO_DB_URL``, the project's ``waldo.yml`` or credentials,
else ``.waldo/waldo.db`` in the project around the current folder; outside a project,
with neither, the command says so and creates nothing).
"""

from __future__ import annotations

from datetime import datetime, timezone
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
from waldo._logging import log_level_option, log_to_stderr
from waldo.journal import (
    Executions,
    Settings,
    find_project_root,
    is_no_execution,
    resolve_settings,
)
from waldo.store import Store

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
            project = getattr(self.parent, "project", None)
            db = self.db_url or getattr(self.parent, "db", None)
            if db and project is None:
                # The seed's way, a URL on every command: nothing else to read, and no
                # need to import the `waldo` command line (a third of a command's time).
                self._settings = resolve_settings(
                    find_project_root(None), {}, {}, environ={"WALDO_DB_URL": db}
                )
            else:
                from waldo.cli._context import cli_settings  # the `waldo` CLI's resolution

                env = getattr(self.parent, "env", None)
                self._settings = cli_settings(project, env, db)
        return self._settings

    @property
    def executions(self) -> Executions:
        return Executions(Store(self.settings.store_url))

    def default_stat_cache(self) -> Path:
        return self.settings.project_path / ".waldo" / STAT_CACHE_FILE


@click.group(
    cls=DpoGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    options_metavar="[--log-level LEVEL] [DB_URL]",
    epilog="DB_URL (e.g. postgresql://user:pass@host:5432/db or sqlite:///path.db) may come "
    "before the command; without it the store is found as for `waldo`. Ids are UUIDs. "
    "Exit status 2 means bad input (malformed or unknown id, base path not a folder).",
)
@log_level_option("INFO", "Logging level of the messages on stderr.")
@click.pass_context
def dpo(ctx: click.Context, log_level: str) -> None:
    """Track executions and steps of any pipeline and detect changed models.

    \b
    id=$(dpo "$DB" init-execution --name nightly)
    last=$(dpo "$DB" get-last-successful-execution)
    step=$(dpo "$DB" init-step "$id" LOAD ./load '**/*.sql')
    changed=$(dpo "$DB" compare-step-models "$step" "$last")
    dpo "$DB" complete-step "$step" --rows-processed 1200
    dpo "$DB" complete-execution "$id"

    Step names match in any letter case (load is LOAD).
    """
    log_to_stderr(log_level)
    ctx.obj = DpoState(ctx.meta.get("waldo.dpo.db_url"), ctx.obj)


def _warn(warnings: list[str]) -> None:
    """Warnings reach stderr whatever the log level: they change what a script concludes."""
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)


def _timestamp(when: datetime) -> str:
    return when.astimezone(timezone.utc).isoformat(timespec="microseconds")


STRICT = click.option(
    "--strict", is_flag=True, help="A pattern that matches no file is an error, not a warning."
)
MODEL_NAMES = click.option(
    "--model-names",
    type=click.Choice(["stem", "path"]),
    default="stem",
    show_default=True,
    help="Name models by file name without extension (the seed's rule: two files with "
    "the same name are an error) or by path relative to BASE_PATH.",
)
STAT_CACHE = click.option(
    "--stat-cache",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Stat cache file (default: .waldo/statcache.db in the project).",
)
NO_STAT_CACHE = click.option(
    "--no-stat-cache", is_flag=True, help="Read every file, trust no cached digest."
)


def model_options(command: Any) -> Any:
    """The options of the commands that record a step's models."""
    for option in (STRICT, NO_STAT_CACHE, STAT_CACHE, MODEL_NAMES):
        command = option(command)
    return command


SEPARATOR = click.option(
    "--separator",
    default=",",
    show_default=True,
    help=r"Between model names; backslash escapes work ('\n', '\t').",
)


@dpo.command("init-execution")
@click.argument("execution_id", required=False)
@click.option(
    "--name",
    default=None,
    help="The pipeline this execution runs (default: the current folder's name); shown "
    "by `waldo runs`, in OpenLineage and in cicd_pipelines.",
)
@click.option(
    "--lease",
    type=click.FloatRange(min=1),
    default=None,
    metavar="SECONDS",
    help="An execution no DPO command touched for this long is marked interrupted "
    "(default: 21600, six hours).",
)
@click.pass_obj
def init_execution(
    state: DpoState, execution_id: str | None, name: str | None, lease: float | None
) -> None:
    """Start an execution; print its id (a new UUID, or EXECUTION_ID if given)."""
    click.echo(state.executions.init_execution(execution_id, name=name, lease_seconds=lease))


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
    click.echo(_timestamp(state.executions.completion_timestamp(execution_id)))


@dpo.command("get-execution-last-updated-timestamp")
@click.argument("execution_id")
@click.pass_obj
def get_execution_last_updated_timestamp(state: DpoState, execution_id: str) -> None:
    """Print the last-updated-on timestamp of EXECUTION_ID (its completion once complete),
    ISO-8601 with time zone (database clock). The seed's older spelling.

    Given the empty sentinel (no successful execution), print an empty line.
    """
    if is_no_execution(execution_id):
        click.echo("")
        return
    click.echo(_timestamp(state.executions.last_updated_timestamp(execution_id)))


def _record_step(
    state: DpoState,
    execution_id: str,
    step_name: str,
    base_path: str,
    patterns: tuple[str, ...],
    options: dict[str, Any],
    completed: bool,
) -> str:
    cache = (
        None if options["no_stat_cache"] else (options["stat_cache"] or state.default_stat_cache())
    )
    step = state.executions.init_step(
        execution_id,
        step_name,
        base_path,
        patterns,
        cache_path=cache,
        naming="path" if options["model_names"] == "path" else "stem",
        strict=options["strict"],
        completed=completed,
    )
    _warn(step.warnings)
    return step.step_id


@dpo.command("init-step")
@click.argument("execution_id")
@click.argument("step_name")
@click.argument("base_path")
@click.argument("patterns", nargs=-1, required=True)
@model_options
@click.pass_obj
def init_step(
    state: DpoState,
    /,
    execution_id: str,
    step_name: str,
    base_path: str,
    patterns: tuple[str, ...],
    **options: Any,
) -> None:
    """Record the models of a step of EXECUTION_ID; print the step's id.

    Models are the files under BASE_PATH matching the PATTERNs (unix-style, relative to
    BASE_PATH, `**` for any folders: '**/*.sql' 'group1/*.csv'); quote the patterns so
    the shell does not expand them. Each is fingerprinted by content (xxh3-128).
    """
    click.echo(_record_step(state, execution_id, step_name, base_path, patterns, options, False))


@dpo.command("persist-models")
@click.argument("execution_id")
@click.argument("model_type")
@click.argument("base_path")
@click.argument("patterns", nargs=-1, required=True)
@model_options
@click.pass_obj
def persist_models(
    state: DpoState,
    /,
    execution_id: str,
    model_type: str,
    base_path: str,
    patterns: tuple[str, ...],
    **options: Any,
) -> None:
    """Save the checksums of the MODEL_TYPE models of EXECUTION_ID (the seed's older
    form of init-step: a step named MODEL_TYPE, complete at once); print nothing.

    Models are the files under BASE_PATH matching the PATTERNs, as for init-step.
    """
    _record_step(state, execution_id, model_type, base_path, patterns, options, True)


def _echo_names(names: list[str], separator: str) -> None:
    click.echo(_separator(separator).join(names))


def _separator(text: str) -> str:
    return text.encode().decode("unicode_escape") if "\\" in text else text


@dpo.command("compare-step-models")
@click.argument("step_id")
@click.argument("previous_execution_id")
@SEPARATOR
@click.option("--include-deleted", is_flag=True, hidden=True)
@click.pass_obj
def compare_step_models(
    state: DpoState,
    step_id: str,
    previous_execution_id: str,
    separator: str,
    include_deleted: bool,
) -> None:
    """Print the models of STEP_ID that are new or changed since PREVIOUS_EXECUTION_ID.

    The step is compared with the step of the same name (any letter case) in the
    previous execution. Names are sorted and joined by the separator; nothing changed
    prints an empty line. Deleted models are listed by deleted-step-models.
    """
    if include_deleted:
        raise InvalidInput(
            "--include-deleted is gone: deleted models are not models to run; list them "
            "with `deleted-step-models STEP_ID PREVIOUS_EXECUTION_ID`."
        )
    changes = state.executions.compare_step_models(step_id, previous_execution_id)
    _warn(changes.warnings)
    _echo_names(changes.names(), separator)


@dpo.command("compare-models")
@click.argument("previous_execution_id")
@click.argument("current_execution_id")
@click.argument("model_type")
@SEPARATOR
@click.pass_obj
def compare_models(
    state: DpoState,
    previous_execution_id: str,
    current_execution_id: str,
    model_type: str,
    separator: str,
) -> None:
    """Print the MODEL_TYPE models of CURRENT_EXECUTION_ID that are new or changed since
    PREVIOUS_EXECUTION_ID (the seed's older form of compare-step-models)."""
    changes = state.executions.compare_execution_models(
        previous_execution_id, current_execution_id, model_type
    )
    _warn(changes.warnings)
    _echo_names(changes.names(), separator)


@dpo.command("deleted-step-models")
@click.argument("step_id")
@click.argument("previous_execution_id")
@SEPARATOR
@click.pass_obj
def deleted_step_models(
    state: DpoState, step_id: str, previous_execution_id: str, separator: str
) -> None:
    """Print the models the same-named step of PREVIOUS_EXECUTION_ID had and STEP_ID
    lacks (files deleted or renamed since), sorted, joined by the separator."""
    changes = state.executions.compare_step_models(step_id, previous_execution_id)
    _warn(changes.warnings)
    _echo_names(changes.deleted, separator)


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
@click.option(
    "--force", is_flag=True, help="Complete it although steps still run; they become interrupted."
)
@click.pass_obj
def complete_execution(state: DpoState, execution_id: str, failed: bool, force: bool) -> None:
    """Mark EXECUTION_ID successfully complete; it becomes the last successful one.

    Refused (exit 2) while a step of it is still running, unless --force or --failed.
    """
    state.executions.complete_execution(execution_id, failed=failed, force=force)


def main(argv: list[str] | None = None, prog_name: str = "python -m waldo.dpo") -> Any:
    """Entry point of ``python -m waldo.dpo``."""
    return dpo.main(args=argv, prog_name=prog_name)


def script_main() -> Any:
    """Entry point of the ``dpo`` console script."""
    return main(prog_name="dpo")
