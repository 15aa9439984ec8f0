"""Rendering journal objects for people (rich tables) and for programs (JSON)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

# Re-exported: other command modules format durations and times through here.
from waldo._format import fmt_duration as fmt_duration
from waldo._format import fmt_time as fmt_time
from waldo.cli._check_render import check_change_rows
from waldo.journal import Decision, RunDetail, RunDiff, RunSummary

#: How many rows a listing may ask for: any count the databases' 64-bit LIMIT takes.
COUNT = click.IntRange(1, 2**63 - 1)

#: The ``--format`` option every listing command shares.
FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="A table for people, JSON for programs.",
)


STATUS_STYLE = {
    "success": "green",
    "failed": "bold red",
    "running": "cyan",
    "interrupted": "yellow",
    "skipped": "dim",
}


def console() -> Console:
    """A console that keeps tables readable when the output is a pipe or a file, and
    shows every string as text: recorded names (a pipeline called ``[/bold]``, a
    dataset called ``:warning:``) are never read as markup or emoji codes."""
    probe = Console()
    width = None if probe.is_terminal else max(probe.width, 160)
    return Console(highlight=False, soft_wrap=False, width=width, markup=False, emoji=False)


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


def status_text(status: str) -> Text:
    return Text(status, style=STATUS_STYLE.get(status, ""))


def runs_table(runs: list[RunSummary]) -> Table:
    table = Table(title="Waldo runs", title_justify="left", header_style="bold")
    for column in (
        "run id",
        "kind",
        "status",
        "started",
        "duration",
        "pipeline",
        "nodes ok/failed",
        "env",
        "git",
    ):
        table.add_column(column, no_wrap=column in ("run id", "started"))
    for run in runs:
        nodes = f"{run.nodes_ok}/{run.nodes_failed}"
        if run.nodes_skipped:
            nodes += f" (+{run.nodes_skipped} skipped)"
        git = (run.git_sha or "-")[:8] + ("*" if run.git_dirty else "")
        table.add_row(
            run.run_id,
            run.kind,
            status_text(run.status),
            fmt_time(run.started_at),
            fmt_duration(run.duration_s),
            ", ".join(run.pipeline_names) or "-",
            nodes,
            run.env or "-",
            git,
        )
    return table


def _count(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else "-"


def _bytes(value: object) -> str:
    if not isinstance(value, int):
        return "-"
    size = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


def _io(names: dict[str, float | None]) -> str:
    return ", ".join(sorted(names)) if names else "-"


def show_run(
    detail: RunDetail,
    out: Console,
    check_lines: Mapping[str | None, list[Text]] | None = None,
    checks_summary: str | None = None,
) -> None:
    """A run for people; ``check_lines``: the failed checks to list under each node (None:
    those of the pipeline's end), ``checks_summary``: how the run's checks went."""
    check_lines = check_lines or {}
    s = detail.summary
    out.print(Text.assemble(("Run ", "bold"), (s.run_id, "bold"), "  ", status_text(s.status)))
    facts = [
        ("pipeline", ", ".join(s.pipeline_names) or "-"),
        ("started", fmt_time(s.started_at)),
        ("finished", fmt_time(s.finished_at)),
        ("duration", fmt_duration(s.duration_s)),
        ("nodes", f"{s.nodes_ok} ok, {s.nodes_failed} failed, {s.nodes_skipped} skipped"),
        ("env", s.env or "-"),
        ("runner", s.runner or "-"),
        ("git", (s.git_sha or "-") + (" (dirty)" if s.git_dirty else "")),
        ("user@host", f"{s.user_name or '-'}@{s.host or '-'}"),
        ("kedro / waldo", f"{detail.kedro_version or '-'} / {detail.waldo_version or '-'}"),
        ("checks", checks_summary or "-"),
        (
            "params",
            json.dumps(detail.runtime_params, default=str) if detail.runtime_params else "-",
        ),
    ]
    for rewrite in detail.path_rewrites:
        facts.append(("path", f"{rewrite['dataset']}: {rewrite['from']} -> {rewrite['to']}"))
    for key, value in facts:
        out.print(Text.assemble((f"  {key:<14}", "dim"), value))
    if detail.error_message and s.status != "success":
        out.print(
            Text.assemble(
                ("  error         ", "dim"),
                (f"{detail.error_type or ''}: {detail.error_message}", "red"),
            )
        )
    table = Table(header_style="bold", title="Nodes", title_justify="left")
    with_reasons = any(node.reason for node in detail.nodes)
    columns = ["#", "node", "status", "started", "duration", "reads", "writes"]
    for column in columns + (["why"] if with_reasons else []):
        table.add_column(column)
    for index, node in enumerate(detail.nodes, start=1):
        cells: list[str | Text] = [
            str(index),
            node.node_name,
            status_text(node.status),
            fmt_time(node.started_at),
            fmt_duration(node.duration_s),
            _io(node.inputs),
            _io(node.outputs),
        ]
        if with_reasons:
            cells.append(node.reason or "")
        table.add_row(*cells)
    out.print(table)
    if check_lines:
        out.print(Text("Failed checks", style="bold"))
        for node_name, lines in check_lines.items():
            out.print(Text(f"  {node_name or 'at the end of the pipeline'}"))
            for line in lines:
                out.print(line)
    if detail.datasets:
        written = Table(header_style="bold", title="Datasets written", title_justify="left")
        for column in ("dataset", "by node", "rows", "columns", "nulls", "size", "version"):
            written.add_column(column)
        for item in detail.datasets:
            stats = item.get("stats") or {}
            nulls = stats.get("nulls")
            written.add_row(
                item["dataset"],
                item.get("node") or "-",
                _count(stats.get("rows")),
                _count(stats.get("columns")),
                _count(sum(nulls.values())) if isinstance(nulls, dict) else "-",
                _bytes(stats.get("bytes")),
                (item.get("version") or "-")[:12],
            )
        out.print(written)
    for node in detail.nodes:
        if node.status == "failed":
            out.print(
                Text(
                    f"\n{node.node_name} failed: {node.error_type}: {node.error_message}",
                    style="bold red",
                )
            )
            if node.traceback:
                out.print(Text(node.traceback.rstrip(), style="red"))


def status_table(
    pipeline: str, decisions: list[Decision], branch: str | None = None, show_all: bool = False
) -> Table | Text:
    """The nodes to run and why; the up-to-date ones too with ``show_all`` (a line
    under the table counts them otherwise)."""
    stale = sum(d.run for d in decisions)
    waiting = sum(bool(d.waits_on) for d in decisions)
    where = f" on data branch {branch}" if branch else ""
    later = f" ({waiting} only if their re-made inputs change)" if waiting else ""
    fresh = len(decisions) - stale
    if not stale and not show_all:
        return Text(f"Pipeline {pipeline}{where}: all {fresh} nodes up to date.")
    hidden = f"{fresh} up to date (--all lists them)" if fresh and not show_all else None
    table = Table(
        title=f"Pipeline {pipeline}{where}: {stale} of {len(decisions)} nodes to run{later}",
        title_justify="left",
        header_style="bold",
        caption=hidden,
        caption_justify="left",
    )
    table.add_column("node")
    table.add_column("state")
    table.add_column("why")
    for decision in decisions:
        if not decision.run:
            if not show_all:
                continue
            state = Text("up to date", style="green")
        elif decision.waits_on:
            state = Text("stale if inputs change", style="yellow")
        else:
            state = Text("stale", style="yellow")
        table.add_row(decision.node, state, decision.summary if decision.run else "")
    return table


def _value(value: object) -> str:
    if isinstance(value, float):
        return fmt_duration(value)
    return "-" if value is None else str(value)


def diff_table(result: RunDiff, show_all: bool = False) -> Table:
    table = Table(
        title=f"{result.run_a} -> {result.run_b}", title_justify="left", header_style="bold"
    )
    table.add_column("what")
    table.add_column("change")
    table.add_column(result.run_a)
    table.add_column(result.run_b)
    for name, a, b in result.facts:
        table.add_row(name, "run", _value(a), _value(b))
    for name, a, b in result.params:
        table.add_row(f"param {name}", "parameter", _value(a), _value(b))
    for node in result.nodes:
        if node.change == "same" and not show_all:
            continue
        style = {"added": "green", "removed": "red", "changed": "yellow"}.get(node.change, "")
        table.add_row(
            node.node,
            Text(node.change, style=style),
            f"{node.status_a or '-'} {fmt_duration(node.duration_a)}",
            f"{node.status_b or '-'} {fmt_duration(node.duration_b)}",
        )
        for detail in node.details:
            table.add_row("", Text(f"  {detail}", style="dim"), "", "")
    check_change_rows(table, result.checks)
    if table.row_count == 0:
        table.add_row("(no differences)", "", "", "")
    return table
