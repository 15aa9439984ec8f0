"""A static site of the latest runs: ``index.html`` and one page per run.

The brainstorm's ``kedro_static_viz``, for any static host: ``runs/<run>.html`` is the
self-contained page ``waldo report`` writes (the same as ``waldo serve`` shows), and
the index lists the latest runs with links to them. Written at the end of every run
when ``static_site:`` is in waldo.yml, or by ``waldo report --site DIR``. Only the
pages of the latest ``keep`` runs stay; a page is rewritten when its run is the one
that just ended, was still going when its page was written, or when asked to.
Each file is written whole and then renamed into place, so a host never serves half.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from waldo._errors import ConfigError, InvalidInput
from waldo._format import fmt_duration, fmt_time
from waldo.journal import History, RunSummary, failed_check_counts
from waldo.web._html import badge, plain_page
from waldo.web._report import report_html

DEFAULT_KEEP = 20
RUNS_DIR = "runs"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class SiteOptions:
    """``static_site:`` in waldo.yml: the folder (relative to the project) and how many
    runs keep their page."""

    path: Path
    keep: int = DEFAULT_KEEP


def site_options(raw: Any, project_path: Path) -> SiteOptions:
    """``static_site: {path: site/, keep: 20}`` checked, the path made absolute."""
    if isinstance(raw, str):
        raw = {"path": raw}
    if not isinstance(raw, Mapping) or not isinstance(raw.get("path"), str) or not raw["path"]:
        raise ConfigError("`static_site:` in waldo.yml needs a folder: `{path: site/, keep: 20}`.")
    unknown = set(raw) - {"path", "keep"}
    if unknown:
        raise ConfigError(
            f"`static_site:` in waldo.yml has unknown key(s) {', '.join(sorted(unknown))}; "
            "use path and keep."
        )
    keep = raw.get("keep", DEFAULT_KEEP)
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
        raise ConfigError(f"`static_site.keep` in waldo.yml is {keep!r}; use a whole number >= 1.")
    path = Path(raw["path"])
    return SiteOptions(path if path.is_absolute() else project_path / path, keep)


@dataclass
class SiteReport:
    """What writing the site did."""

    folder: Path
    written: list[str] = field(default_factory=list)  # run ids whose page was written
    removed: int = 0  # pages of older runs deleted


def page_name(run_id: str) -> str:
    """The file of a run's page under ``runs/`` (a run id made safe as a file name)."""
    return _UNSAFE.sub("-", run_id) + ".html"


def write_site(
    history: History, folder: Path, keep: int = DEFAULT_KEEP, refresh: Iterable[str] = ()
) -> SiteReport:
    """Bring the site in ``folder`` up to date with the latest ``keep`` runs; the pages
    of the runs in ``refresh`` (``"*"``: all) are written again."""
    runs = history.runs(limit=keep)
    pages = folder / RUNS_DIR
    report = SiteReport(folder)
    again = set(refresh)
    try:
        pages.mkdir(parents=True, exist_ok=True)
        for run in runs:
            target = pages / page_name(run.run_id)
            stale = "*" in again or run.run_id in again or _was_running(target)
            if stale or not target.exists():
                _write(target, report_html(history, run.run_id))
                report.written.append(run.run_id)
        counts = failed_check_counts(history.store, [r.run_id for r in runs])
        _write(folder / "index.html", index_html(runs, counts))
        kept = {page_name(r.run_id) for r in runs}
        for old in pages.glob("*.html"):
            if old.name not in kept:
                old.unlink()
                report.removed += 1
    except OSError as exc:
        raise InvalidInput(f"Cannot write the site in {folder}: {exc.strerror or exc}.") from exc
    return report


_PAGE_DATA = re.compile(r"<script id='waldo-data' type='application/json'>(.*?)</script>", re.S)


def _was_running(target: Path) -> bool:
    """Whether a page was written while its run was still going (it is a snapshot)."""
    try:
        found = _PAGE_DATA.search(target.read_text(encoding="utf-8"))
        data = json.loads(found.group(1)) if found else {}
    except (OSError, ValueError):
        return False
    return bool(data.get("run", {}).get("status") == "running")


def _write(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def index_html(runs: list[RunSummary], failed_checks: Mapping[str, int]) -> str:
    """The site's front page: the latest runs, newest first, each linking to its page."""
    rows = []
    for run in runs:
        link = f"{RUNS_DIR}/{page_name(run.run_id)}"
        failed = failed_checks.get(run.run_id, 0)
        rows.append(
            f"<tr><td><a href='{escape(link)}'>{escape(run.run_id)}</a></td>"
            f"<td>{badge(run.status)}</td><td>{fmt_time(run.started_at)}</td>"
            f"<td>{fmt_duration(run.duration_s)}</td>"
            f"<td>{escape(', '.join(run.pipeline_names) or '-')}</td>"
            f"<td>{run.nodes_ok}/{run.nodes_failed}</td>"
            f"<td class='checks-failed'>{failed or '-'}</td></tr>"
        )
    table = (
        "<table class='list' id='runs'><thead><tr><th>run id</th><th>status</th>"
        "<th>started</th><th>duration</th><th>pipeline</th><th>nodes ok/failed</th>"
        "<th>checks failed</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        if rows
        else "<p>No runs recorded yet.</p>"
    )
    return plain_page("Runs", f"<h1>Runs</h1>{table}")
