"""The HTML of Waldo's pages, written as plain strings (no template engine to install).

Every page inlines the stylesheet, and the run page also inlines its script and data,
so a page saved to disk (``waldo report``) needs nothing else: no server, no network.
Every value from the journal goes through :func:`html.escape`.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from html import escape
from importlib import resources
from typing import Any
from urllib.parse import urlencode

from waldo._format import fmt_duration, fmt_time
from waldo._version import __version__
from waldo.journal import RUN_STATUSES, RunDetail, RunDiff, RunFilter, RunPage, RunSummary


@cache
def asset(name: str) -> str:
    """A file of ``waldo/web/assets`` (the stylesheet, the run page's script)."""
    return (resources.files("waldo.web") / "assets" / name).read_text(encoding="utf-8")


def script_json(data: Any) -> str:
    """JSON safe to put inside ``<script>``: no ``</script>`` or ``<!--`` can end it."""
    text = json.dumps(data, default=str, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def badge(status: str) -> str:
    css = "s-" + "".join(c for c in status if c.isalpha())
    return f'<span class="badge {css}">{escape(status)}</span>'


def page(title: str, body: str, *, attrs: str = "", script: str = "", static: bool = False) -> str:
    """A whole HTML document around ``body`` (``static``: no link to the server's pages)."""
    brand = "<b class='brand'>Waldo</b>" if static else "<a class='brand' href='/'>Waldo</a>"
    return (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(title)} · Waldo</title><style>{asset('style.css')}</style></head>"
        f"<body{attrs}><header class='top'>{brand}"
        f"<span class='muted'>flight recorder of your pipelines · v{escape(__version__)}</span>"
        f"</header><main>{body}</main>{script}</body></html>\n"
    )


def error_page(status: int, message: str) -> str:
    return page(
        f"{status}",
        f"<h1>{status}</h1><p>{escape(message)}</p><p><a href='/'>All runs</a></p>",
    )


# -- the run page (served and static) -----------------------------------------------------


def run_page(
    payload: dict[str, Any],
    poll_url: str | None,
    *,
    static: bool = False,
    previous: str | None = None,
) -> str:
    """The run page: the DAG, the timeline, the nodes, the errors; ``poll_url`` makes it
    update itself while the run goes; ``previous`` links a diff with that run."""
    run = payload["run"]
    facts = [
        ("pipeline", ", ".join(run.get("pipeline_names") or []) or "-"),
        ("project", run.get("project") or "-"),
        ("started", fmt_time(_dt(run.get("started_at")))),
        ("env", run.get("env") or "-"),
        ("runner", run.get("runner") or "-"),
        ("git", (run.get("git_sha") or "-")[:12] + (" (dirty)" if run.get("git_dirty") else "")),
        ("user@host", f"{run.get('user_name') or '-'}@{run.get('host') or '-'}"),
        ("params", json.dumps(run.get("runtime_params") or {}, default=str)),
    ]
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in facts)
    back = "" if static else "<a href='/'>&larr; all runs</a>"
    if previous and not static:
        link = urlencode({"a": previous, "b": run["run_id"]})
        back += (
            f" · <a id='diff-previous' href='/diff?{escape(link)}'>diff with the previous run</a>"
        )
    note = (
        f"<p class='muted'>Static report written by Waldo {escape(__version__)}.</p>"
        if static
        else ""
    )
    legend = "".join(
        f"<span>{badge(s)}</span>"
        for s in ("queued", "running", "complete", "error", "skipped", "not run")
    )
    body = f"""
{back}
<h1>Run {escape(run["run_id"])} <span id="run-status" class="badge">{escape(run["status"])}</span>
<span id="live"></span></h1>
{note}
<table class="facts">{rows}
<tr><th>finished</th><td id="run-finished">-</td></tr>
<tr><th>duration</th><td id="run-duration">-</td></tr>
<tr><th>nodes</th><td id="node-counts">-</td></tr></table>
<h2>Pipeline</h2>
<div class="toolbar legend">{legend}<button id="fit" type="button">fit / actual size</button>
<input id="find" type="search" placeholder="find a node" size="22"></div>
<div id="dag"></div>
<div id="node-detail" hidden></div>
<h2>Timeline</h2>
<div id="timeline"></div>
<section id="errors-section" hidden><h2>Errors</h2><div id="errors"></div></section>
<h2>Nodes</h2>
<div id="nodes"></div>
<section id="datasets-section" hidden><h2>Datasets written</h2><div id="datasets"></div></section>
"""
    attrs = f' data-poll="{escape(poll_url)}"' if poll_url else ""
    script = (
        f'<script id="waldo-data" type="application/json">{script_json(payload)}</script>'
        f"<script>{asset('run.js')}</script>"
    )
    return page(f"Run {run['run_id']}", body, attrs=attrs, script=script, static=static)


def _dt(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


# -- the run list ---------------------------------------------------------------------------


def _trend_svg(trend: list[RunSummary]) -> str:
    """Each run a bar as tall as its duration, coloured by status, oldest on the left."""
    done = [r for r in trend if r.duration_s is not None]
    if not done:
        return "<p class='muted'>No finished runs to chart yet.</p>"
    longest = max(r.duration_s or 0.0 for r in done) or 1.0
    width, height = 760, 80
    step = min(width / max(len(done), 1), 14.0)
    bars = []
    for i, run in enumerate(done):
        h = max((run.duration_s or 0.0) / longest * height, 1.0)
        css = "s-" + run.status
        bars.append(
            f'<a href="/runs/{escape(run.run_id)}"><rect class="{css}" x="{i * step:.1f}" '
            f'y="{height - h:.1f}" width="{max(step - 1, 1):.1f}" height="{h:.1f}">'
            f"<title>{escape(run.run_id)}: {fmt_duration(run.duration_s)} ({run.status})</title>"
            "</rect></a>"
        )
    return (
        f'<svg class="trend" width="{width + 120}" height="{height + 16}">{"".join(bars)}'
        f'<text x="{width + 6}" y="10">{fmt_duration(longest)}</text>'
        f'<text x="{width + 6}" y="{height}">0</text>'
        f'<text x="0" y="{height + 14}">last {len(done)} finished runs, oldest first</text></svg>'
    )


def _date(value: datetime | None) -> str:
    return value.date().isoformat() if value is not None else ""


def runs_page(
    found: RunPage, trend: list[RunSummary], pipelines: list[str], filters: RunFilter
) -> str:
    """The run list: filters, a duration trend, one page of runs, links to other pages."""
    options = "".join(
        f"<option{' selected' if p == filters.pipeline else ''}>{escape(p)}</option>"
        for p in pipelines
    )
    statuses = "".join(
        f"<option{' selected' if s == filters.status else ''}>{escape(s)}</option>"
        for s in RUN_STATUSES
    )
    form = f"""
<form class="filters" method="get" action="/">
<label>pipeline<select name="pipeline"><option value="">all</option>{options}</select></label>
<label>status<select name="status"><option value="">all</option>{statuses}</select></label>
<label>from<input type="date" name="since" value="{_date(filters.since)}"></label>
<label>until<input type="date" name="until" value="{_date(filters.until)}"></label>
<button type="submit">filter</button></form>
<form class="filters" method="get" action="/diff">
<label>compare run<input name="a" placeholder="run id or prefix" size="26"></label>
<label>with run<input name="b" placeholder="run id, prefix or latest" size="26"></label>
<button type="submit">diff</button></form>"""
    rows = []
    for index, run in enumerate(found.runs):
        older = found.runs[index + 1].run_id if index + 1 < len(found.runs) else None
        nodes = f"{run.nodes_ok}/{run.nodes_failed}"
        if run.nodes_skipped:
            nodes += f" (+{run.nodes_skipped} skipped)"
        diff = (
            f"<a href='/diff?{urlencode({'a': older, 'b': run.run_id})}'>diff</a>" if older else ""
        )
        rows.append(
            f"<tr><td><a href='/runs/{escape(run.run_id)}'>{escape(run.run_id)}</a></td>"
            f"<td>{badge(run.status)}</td><td>{fmt_time(run.started_at)}</td>"
            f"<td>{fmt_duration(run.duration_s)}</td>"
            f"<td>{escape(', '.join(run.pipeline_names) or '-')}</td><td>{nodes}</td>"
            f"<td>{escape(run.env or '-')}</td>"
            f"<td>{escape((run.git_sha or '-')[:8])}{'*' if run.git_dirty else ''}</td>"
            f"<td>{diff}</td></tr>"
        )
    table = (
        "<table class='list' id='runs'><thead><tr><th>run id</th><th>status</th>"
        "<th>started</th><th>duration</th><th>pipeline</th><th>nodes ok/failed</th><th>env</th>"
        "<th>git</th><th>vs previous</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        if rows
        else "<p>No runs match. Run your pipeline (<code>kedro run</code>) or try "
        "<code>waldo demo</code>.</p>"
    )
    query = {
        k: v
        for k, v in {
            "pipeline": filters.pipeline,
            "status": filters.status,
            "since": _date(filters.since),
            "until": _date(filters.until),
        }.items()
        if v
    }

    def link(to: int, text: str) -> str:
        return f"<a href='/?{escape(urlencode({**query, 'page': to}))}'>{text}</a>"

    pager = [f"<span>page {found.page} of {found.pages} · {found.total:,} runs</span>"]
    if found.page > 1:
        pager.insert(0, link(found.page - 1, "&larr; newer"))
    if found.page < found.pages:
        pager.append(link(found.page + 1, "older &rarr;"))
    body = (
        f"<h1>Runs</h1>{form}<h2>Duration trend</h2>{_trend_svg(trend)}<h2>Runs</h2>{table}"
        f"<div class='pager'>{''.join(pager)}</div>"
    )
    api = "/api/runs?" + urlencode({**query, "page": found.page})
    state = ",".join(f"{r.run_id}:{r.status}" for r in found.runs)
    attrs = f' data-api="{escape(api)}" data-state="{escape(state)}"'
    return page("Runs", body, attrs=attrs, script=f"<script>{asset('runs.js')}</script>")


# -- the diff page ----------------------------------------------------------------------------


def _value(value: Any) -> str:
    if isinstance(value, float):
        return fmt_duration(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str)
    return "-" if value is None else str(value)


def _delta(a: float | None, b: float | None) -> str:
    if a is None or b is None:
        return ""
    change = b - a
    pct = f" ({change / a * 100:+.0f}%)" if a > 0 else ""
    return f"{'+' if change >= 0 else '-'}{fmt_duration(abs(change))}{pct}"


def _plain_why(status: str | None) -> str:
    """Why a node of a plain (not incremental) run ran: it was in the pipeline."""
    if status in ("success", "failed"):
        return "ran: a plain run runs every node of its pipeline"
    return ""


def diff_page(result: RunDiff, detail_a: RunDetail, detail_b: RunDetail) -> str:
    """Two runs side by side: run facts, parameters, then node by node with timings and,
    from the second run, why each node ran or was skipped."""
    a, b = escape(result.run_a), escape(result.run_b)
    head = (
        f"<h1>Diff</h1><p><a href='/runs/{a}'>{a}</a> {badge(detail_a.summary.status)} &rarr; "
        f"<a href='/runs/{b}'>{b}</a> {badge(detail_b.summary.status)}</p>"
    )
    facts = "".join(
        f"<tr><td>{escape(name)}</td><td>{escape(_value(va))}</td><td>{escape(_value(vb))}</td></tr>"
        for name, va, vb in result.facts
    )
    params = "".join(
        f"<tr><td>{escape(name)}</td><td>{escape(_value(va))}</td><td>{escape(_value(vb))}</td></tr>"
        for name, va, vb in result.params
    )
    reasons = {n.node_name: n.reason for n in detail_b.nodes}
    nodes = []
    for node in result.nodes:
        why = reasons.get(node.node) or _plain_why(node.status_b)
        nodes.append(
            f"<tr class='change-{escape(node.change)}' data-node='{escape(node.node)}'>"
            f"<td>{escape(node.node)}</td><td>{escape(node.change)}</td>"
            f"<td>{badge(node.status_a) if node.status_a else '-'} "
            f"{fmt_duration(node.duration_a)}</td>"
            f"<td>{badge(node.status_b) if node.status_b else '-'} "
            f"{fmt_duration(node.duration_b)}</td>"
            f"<td>{escape(_delta(node.duration_a, node.duration_b))}</td>"
            f"<td class='details'>{escape('; '.join(node.details))}</td>"
            f"<td class='details'>{escape(why)}</td></tr>"
        )
    table_head = f"<thead><tr><th>what</th><th>{a}</th><th>{b}</th></tr></thead>"
    body = (
        head
        + "<h2>Run</h2>"
        + (
            f"<table class='list' id='facts'>{table_head}<tbody>{facts}</tbody></table>"
            if facts
            else "<p class='muted'>Same run facts.</p>"
        )
        + "<h2>Parameters</h2>"
        + (
            f"<table class='list' id='params'>{table_head}<tbody>{params}</tbody></table>"
            if params
            else "<p class='muted'>Same parameters.</p>"
        )
        + "<h2>Nodes</h2><table class='list' id='node-diff'><thead><tr><th>node</th>"
        f"<th>change</th><th>{a}</th><th>{b}</th><th>time</th><th>what changed</th>"
        f"<th>why it ran or was skipped ({b})</th></tr></thead><tbody>"
        + "".join(nodes)
        + "</tbody></table>"
    )
    return page(f"Diff {result.run_a} {result.run_b}", body)
