"""GitHub's documented example responses (``github_api/``), varied per scenario.

Each builder deep-copies the documented record and sets only the fields a scenario
needs, so every payload keeps the shape GitHub documents (nested users, repositories,
head and base refs, commit objects).
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).with_name("github_api")


@cache
def _example(name: str) -> Any:
    return json.loads((EXAMPLES / f"{name}.json").read_text())


def example(name: str) -> Any:
    """A documented response, as GitHub's OpenAPI description gives it."""
    return copy.deepcopy(_example(name))


def workflow_run(run_id: int, **changes: Any) -> dict[str, Any]:
    run: dict[str, Any] = example("workflow_runs")["workflow_runs"][0]
    run.update(id=run_id, run_number=run_id, **changes)
    run["html_url"] = run["html_url"].rsplit("/", 1)[0] + f"/{run_id}"
    return run


def job(job_id: int, run_id: int, **changes: Any) -> dict[str, Any]:
    found: dict[str, Any] = example("jobs")["jobs"][0]
    found.update(id=job_id, run_id=run_id, name=f"build-{job_id}", **changes)
    return found


def pull_request(pr_id: int, number: int, head_sha: str, **changes: Any) -> dict[str, Any]:
    pull: dict[str, Any] = example("pulls")[0]
    pull.update(id=pr_id, number=number, **changes)
    pull["head"]["sha"] = head_sha
    pull["html_url"] = pull["html_url"].rsplit("/", 1)[0] + f"/{number}"
    return pull


def pull_commit(sha: str, message: str) -> dict[str, Any]:
    commit: dict[str, Any] = example("pull_commits")[0]
    commit["sha"] = sha
    commit["commit"]["message"] = message
    return commit


def page(items_attr: str | None, items: list[dict[str, Any]]) -> Any:
    """A page as the endpoint answers it: a bare list, or ``{total_count, <attr>}``."""
    if items_attr is None:
        return items
    return {"total_count": len(items), items_attr: items}
