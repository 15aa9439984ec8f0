"""``waldo report``: a run page as one self-contained HTML file.

The brainstorm's "make site": the same page ``waldo serve`` shows, with its data, style
and script inlined, so it opens from disk or as a mail attachment, with no server and no
network. It is a snapshot: it does not update itself. Node and dataset histories (the
charts of a node's last runs) are embedded as far back as a size budget allows.
"""

from __future__ import annotations

from pathlib import Path

from waldo._errors import InvalidInput
from waldo.journal import History
from waldo.web._html import page
from waldo.web._payload import report_histories, run_payload


def report_html(history: History, run_id: str, *, repo_url: str | None = None) -> str:
    """The static run page of ``run_id`` (an id, a unique prefix or ``latest``)."""
    detail = history.run_detail(run_id)
    data = run_payload(history, detail, repo_url=repo_url)
    data["histories"] = report_histories(history, detail)
    return page(f"Run {detail.summary.run_id}", data, static=True)


def write_report(history: History, run_id: str, path: Path, *, repo_url: str | None = None) -> Path:
    """Write the static run page to ``path`` (folders are created); return the path."""
    html = report_html(history, run_id, repo_url=repo_url)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"Cannot write the report to {path}: {exc.strerror or exc}.") from exc
    return path
