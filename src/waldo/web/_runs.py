"""The data of the run list: one page of runs, the duration chart, the filter choices."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from waldo.journal import RUN_STATUSES, History, RunFilter, RunSummary
from waldo.web._payload import epoch, last_seen_alive, run_duration

PER_PAGE = 50
TREND_RUNS = 200


def run_row(history: History, run: RunSummary) -> dict[str, Any]:
    """A run as the list shows it (times as epoch seconds for the browser)."""
    data = run.to_json()
    data["started"] = epoch(run.started_at)
    data["finished"] = epoch(run.finished_at)
    data["duration_s"] = run_duration(run, last_seen_alive(history, run))
    return data


def _day(value: datetime | None) -> str:
    return value.date().isoformat() if value is not None else ""


def filter_values(filters: RunFilter, until_text: str = "") -> dict[str, str]:
    """The filters as the form shows them (``until`` as the user typed it)."""
    key, value = filters.param or ("", "")
    return {
        "status": filters.status or "",
        "pipeline": filters.pipeline or "",
        "kind": filters.kind or "",
        "tag": filters.tag or "",
        "param": f"{key}={value}" if key else "",
        "since": _day(filters.since),
        "until": until_text,
    }


def runs_payload(
    history: History, filters: RunFilter, page: int, until_text: str = ""
) -> dict[str, Any]:
    """One page of the run list with the chart of the newest matching runs' durations."""
    found = history.runs_page(filters, page, PER_PAGE)
    trend = history.duration_trend(filters, TREND_RUNS)
    return {
        "page": "runs",
        "filters": filter_values(filters, until_text),
        "options": {
            "statuses": list(RUN_STATUSES),
            "pipelines": history.pipeline_names(),
            "kinds": history.run_kinds(),
        },
        "total": found.total,
        "page_number": found.page,
        "pages": found.pages,
        "runs": [run_row(history, r) for r in found.runs],
        "trend": [
            {
                "run_id": r.run_id,
                "status": r.status,
                "t": epoch(r.started_at),
                "duration": run_duration(r, last_seen_alive(history, r)),
            }
            for r in trend
            if r.started_at is not None
        ],
    }
