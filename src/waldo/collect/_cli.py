"""A plugin's command line, as pydevlake's: ``COMMAND CONTEXT_JSON STREAM``.

The same click group serves ``python main.py ...`` (``MyPlugin.start()``) and
``waldo collect <plugin> ...``. ``python main.py CONTEXT_JSON STREAM`` (the seed's
short form, no command) runs the stream's three steps.
"""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from waldo._errors import WaldoError
from waldo._logging import log_level_option, log_to_stderr
from waldo.cli._errors import WaldoGroup
from waldo.collect import message as msg
from waldo.collect._runner import STEPS, Runner, StepResult
from waldo.collect.context import Context
from waldo.collect.plugin import Plugin

CONTEXT = click.argument("context_json", metavar="CONTEXT_JSON")
FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Lines for people, JSON for programs.",
)
FULL = click.option(
    "--full",
    is_flag=True,
    help="Collect from scratch: forget the state and replace what the last run wrote.",
)


LOG_LEVEL = log_level_option(
    None,
    "Logging level on stderr (default INFO, or that of `waldo collect`): INFO shows each "
    "retry after a 429 or 5xx answer, DEBUG every request.",
)


class PluginGroup(WaldoGroup):
    """The plugin's commands; a first argument that is a JSON object means ``run``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        args = list(args)
        first = 0
        while first < len(args) and args[first] in ("-l", "--log-level"):
            first += 2
        if first < len(args) and args[first].lstrip().startswith("{"):
            args.insert(first, "run")
        return super().parse_args(ctx, args)


def _context(plugin: Plugin, text: str, full: bool = False) -> Context:
    context = Context.parse(text, plugin.connection_type, plugin.scope_type())
    if full:
        context.incremental = False
    return context


def _echo_result(result: StepResult, fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(result.to_json()))
        return
    detail = ""
    if result.tables:
        detail = " (" + ", ".join(f"{t}: {n}" for t, n in sorted(result.tables.items())) + ")"
    click.echo(
        f"{result.step} {result.stream}: {result.records} records{detail} in {result.seconds:.2f} s"
    )


def _print_model(value: Any) -> None:
    if isinstance(value, list):
        click.echo(json.dumps([_plain(v) for v in value], indent=2, default=str))
    else:
        click.echo(json.dumps(_plain(value), indent=2, default=str))


def _plain(value: Any) -> Any:
    return value.model_dump(mode="json") if hasattr(value, "model_dump") else value


def plugin_cli(plugin_type: type[Plugin]) -> click.Group:
    """Build the command group of one plugin class."""
    plugin = plugin_type()
    streams = plugin.stream_instances()
    listing = "\n".join(
        f"  {name:<20} -> {stream.tool_table_name}" for name, stream in streams.items()
    )
    help_text = (
        f"{(type(plugin).__doc__ or plugin.name).strip().splitlines()[0]}\n\n"
        "CONTEXT_JSON is a JSON object with db_url (e.g. sqlite+pysqlite:///:memory:) and "
        "connection (the connection's fields); optional: scope, options, incremental."
        f"\n\n\b\nStreams:\n{listing or '  (none)'}"
    )

    @click.group(
        name=plugin.name,
        cls=PluginGroup,
        help=help_text,
        context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    )
    @LOG_LEVEL
    @click.pass_context
    def group(ctx: click.Context, log_level: str | None) -> None:
        if log_level is not None or ctx.parent is None:  # else `waldo collect` chose it
            log_to_stderr(log_level or "INFO")

    def _step_command(step: str) -> None:
        @group.command(name=step, help=f"Run the {step} step of STREAM.")
        @CONTEXT
        @click.argument("stream")
        @FULL
        @FORMAT
        def command(context_json: str, stream: str, full: bool, fmt: str) -> None:
            context = _context(plugin, context_json, full)
            plugin.get_stream(stream)  # an unknown stream fails before any connection
            _echo_result(Runner(plugin, context).step(step, stream), fmt)

    for step in STEPS:
        _step_command(step)

    @group.command(name="run")
    @CONTEXT
    @click.argument("stream_names", nargs=-1, metavar="[STREAM]...")
    @FULL
    @FORMAT
    def run(context_json: str, stream_names: tuple[str, ...], full: bool, fmt: str) -> None:
        """Collect, extract and convert STREAMs in order (default: every stream)."""
        context = _context(plugin, context_json, full)
        names = list(stream_names) or list(streams)
        for name in names:
            plugin.get_stream(name)
        console = Console(stderr=True)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} steps"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        ) as bar:
            task = bar.add_task(plugin.name, total=len(names) * len(STEPS))

            def progress(stream: str, step: str, count: int) -> None:
                bar.update(task, description=f"{stream}: {step} {count} records")

            runner = Runner(plugin, context, progress=progress)
            for name in names:
                for step in STEPS:
                    result = runner.step(step, name)
                    bar.advance(task)
                    _echo_result(result, fmt)

    @group.command(name="test-connection")
    @CONTEXT
    def test_connection(context_json: str) -> None:
        """Check that the context's connection reaches the tool."""
        context = _context(plugin, context_json)
        outcome = plugin.test_connection(context.connection)
        if isinstance(outcome, msg.TestConnectionResult) and not outcome.success:
            raise WaldoError(f"The connection does not work: {outcome.message}")
        click.echo(f"Connection {context.connection_id} of {plugin.name} works.")

    @group.command(name="remote-scope-groups")
    @CONTEXT
    def remote_scope_groups(context_json: str) -> None:
        """List the groups of scopes the connection can see, as JSON."""
        context = _context(plugin, context_json)
        _print_model(list(plugin.remote_scope_groups(context.connection) or []))

    @group.command(name="remote-scopes")
    @CONTEXT
    @click.argument("group_id")
    def remote_scopes(context_json: str, group_id: str) -> None:
        """List the scopes of GROUP_ID, as JSON."""
        context = _context(plugin, context_json)
        _print_model(list(plugin.remote_scopes(context.connection, group_id) or []))

    @group.command(name="plugin-info")
    def plugin_info() -> None:
        """Print the plugin's name, connection schema and streams as JSON."""
        _print_model(plugin.plugin_info())

    return group
