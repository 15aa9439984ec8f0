"""``waldo report``: a run page as one self-contained HTML file.

The brainstorm's "make site": the same page ``waldo serve`` shows, with its data, style
and script inlined, so it opens from disk or as a mail attachment, with no server and no
network. It is a snapshot: it does not update itself.
"""

from __future__ import annotations

from pathlib import Path

from waldo._errors import InvalidInput
from waldo.journal import History
from waldo.web._html import run_page
from waldo.web._payload import run_payload


def report_html(history: History, run_id: str) -> str:
    """The static run page of ``run_id`` (an id, a unique prefix or ``latest``)."""
    detail = history.run_detail(run_id)
    return run_page(run_payload(history, detail), None, static=True)


def write_report(history: History, run_id: str, path: Path) -> Path:
    """Write the static run page to ``path`` (folders are created); return the path."""
    html = report_html(history, run_id)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"Cannot write the report to {path}: {exc.strerror or exc}.") from exc
    return path
