"""``waldo collect PLUGIN COMMAND CONTEXT_JSON STREAM``: run a collector plugin.

The plugins (and SQLModel, pydantic and requests behind them) are imported only when
a ``collect`` command runs, so the rest of the command line does not pay for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from waldo._errors import ConfigError
from waldo._logging import log_level_option, log_to_stderr
from waldo.cli._errors import WaldoGroup

if TYPE_CHECKING:
    from waldo.journal import Journal, RunSummary

#: What ``waldo runs --kind`` takes: Kedro runs, DPO executions, collected runs.
RUN_KINDS = ("kedro", "dpo", "collected")


def recent_runs(
    journal: Journal, limit: int, status: str | None, pipeline: str | None, kind: str | None
) -> list[RunSummary]:
    """The newest runs of every kind: the journal's own, and those collected from other
    tools (``cicd_pipelines`` rows that ``waldo collect`` wrote), newest first."""
    from datetime import datetime, timezone

    from waldo.journal import CollectorJournal

    found = []
    if kind != "collected":
        found = journal.history.runs(limit=limit, status=status, pipeline=pipeline, kind=kind)
    if kind in (None, "collected"):
        found += CollectorJournal(journal.store).collected_runs(limit, status, pipeline)
    oldest = datetime.min.replace(tzinfo=timezone.utc)
    found.sort(key=lambda r: r.started_at or oldest, reverse=True)
    return found[:limit]


def _collect_module() -> Any:
    try:
        from waldo.collect import _cli, _discover
    except ImportError as exc:
        raise ConfigError(
            f"Collectors need their dependencies: pip install 'waldo[collect]' ({exc})."
        ) from exc
    return _cli, _discover


class CollectGroup(WaldoGroup):
    """Subcommands are the installed plugins (plus ``run``), loaded on demand."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        _cli, discover = _collect_module()
        return [*super().list_commands(ctx), *discover.installed()]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List plugins by name and class without importing them (one that fails to
        import must not break the help of the others)."""
        _cli, discover = _collect_module()
        rows = [(name, self.commands[name].get_short_help_str(60)) for name in self.commands]
        rows += [(name, target) for name, target in discover.installed().items()]
        with formatter.section("Commands and plugins"):
            formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        builtin = super().get_command(ctx, cmd_name)
        if builtin is not None:
            return builtin
        cli, discover = _collect_module()
        return cli.plugin_cli(discover.load_plugin(cmd_name))  # type: ignore[no-any-return]

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        # Loading an unknown plugin raises a Waldo error: show it as one line.
        try:
            return super().resolve_command(ctx, args)
        except click.ClickException:
            raise
        except Exception as exc:
            from waldo._errors import WaldoError
            from waldo.cli._errors import WaldoCommandError

            if isinstance(exc, WaldoError):
                raise WaldoCommandError(exc) from exc
            raise


@click.group(
    "collect",
    cls=CollectGroup,
    epilog="Plugins are found by name (entry point group waldo.collectors) or as "
    "module:Class. `waldo collect PLUGIN --help` lists a plugin's streams.",
)
@log_level_option("INFO", "Logging level on stderr; INFO shows each retry after a 429 or 5xx.")
def collect(log_level: str) -> None:
    """Collect runs from other tools (GitHub Actions, dbt, Waldo itself) into the store.

    `waldo collect PLUGIN COMMAND CONTEXT_JSON STREAM` with COMMAND collect, extract
    or convert; `waldo collect PLUGIN run CONTEXT_JSON` runs every stream.
    """
    log_to_stderr(log_level)


@collect.command("run", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("plugin")
@click.pass_context
def run(ctx: click.Context, plugin: str) -> None:
    """Collect, extract and convert every stream of PLUGIN: `run PLUGIN CONTEXT_JSON`."""
    cli, discover = _collect_module()
    group = cli.plugin_cli(discover.load_plugin(plugin))
    level = ctx.parent.params["log_level"] if ctx.parent else "INFO"
    group.main(
        args=["--log-level", level, "run", *ctx.args],
        prog_name=f"waldo collect {plugin}",
        standalone_mode=False,
    )
