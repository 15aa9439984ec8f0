"""GitHub Actions: recorded-style API pages into cicd_pipelines, cicd_tasks and commits."""

from __future__ import annotations

from typing import Any

from tests.collect._helpers import query
from waldo.collect._runner import Runner
from waldo.collect.domain_layer import devops
from waldo.collect.plugins.github import GitHubActions
from waldo.collect.testing import ContextBuilder, JsonServer, Reply, assert_stream_convert

REPO = "octo-org/hello"
BASE = f"/repos/{REPO}/actions/runs"


def run(
    run_id: int, status: str, conclusion: str | None, created: str, updated: str
) -> dict[str, Any]:
    """A workflow run as GitHub's REST API returns it (the fields Waldo reads, and some)."""
    return {
        "id": run_id,
        "name": "CI",
        "display_title": f"Change {run_id}",
        "run_number": run_id,
        "run_attempt": 1,
        "event": "push",
        "status": status,
        "conclusion": conclusion,
        "workflow_id": 42,
        "head_branch": "main",
        "head_sha": f"{run_id:040x}",
        "html_url": f"https://github.com/{REPO}/actions/runs/{run_id}",
        "created_at": created,
        "updated_at": updated,
        "run_started_at": created.replace(":00Z", ":30Z"),
        "repository": {"full_name": REPO},
        "pull_requests": [],
    }


def job(
    job_id: int, run_id: int, conclusion: str | None, status: str = "completed"
) -> dict[str, Any]:
    return {
        "id": job_id,
        "run_id": run_id,
        "name": f"test-{job_id}",
        "status": status,
        "conclusion": conclusion,
        "head_sha": f"{run_id:040x}",
        "html_url": f"https://github.com/{REPO}/actions/runs/{run_id}/job/{job_id}",
        "runner_name": "ubuntu-latest",
        "created_at": "2026-11-20T10:00:00Z",
        "started_at": "2026-11-20T10:00:10Z",
        "completed_at": "2026-11-20T10:02:10Z" if status == "completed" else None,
        "steps": [],
    }


def serve(server: JsonServer, open_run_done: bool = False) -> None:
    server.require_header("authorization", "Bearer ghs_test")
    newest = run(
        103,
        "completed" if open_run_done else "in_progress",
        "success" if open_run_done else None,
        "2026-11-20T12:00:00Z",
        "2026-11-20T12:09:00Z",
    )
    page1 = {
        "total_count": 3,
        "workflow_runs": [
            newest,
            run(102, "completed", "failure", "2026-11-20T11:00:00Z", "2026-11-20T11:05:00Z"),
        ],
    }
    page2 = {
        "total_count": 3,
        "workflow_runs": [
            run(101, "completed", "cancelled", "2026-11-20T10:00:00Z", "2026-11-20T10:01:00Z")
        ],
    }
    server.route(
        BASE,
        Reply(page1, headers={"Link": f'<{{url}}{BASE}?per_page=100&page=2>; rel="next"'}),
    )
    server.route(f"{BASE}?page=2", page2)
    server.route(
        f"{BASE}/103/jobs",
        {
            "total_count": 1,
            "jobs": [
                job(
                    1031,
                    103,
                    "success" if open_run_done else None,
                    "completed" if open_run_done else "in_progress",
                )
            ],
        },
    )
    # A server hiccup: the first answer for run 102's jobs is a 500.
    server.route(
        f"{BASE}/102/jobs",
        Reply({"message": "Server Error"}, 500),
        {"total_count": 2, "jobs": [job(1021, 102, "success"), job(1022, 102, "failure")]},
    )
    server.route(f"{BASE}/101/jobs", {"total_count": 1, "jobs": [job(1011, 101, "cancelled")]})


def runner(server: JsonServer, db_url: str) -> Runner:
    plugin = GitHubActions()
    ctx = (
        ContextBuilder(db_url=db_url)
        .connection(url=server.url, token="ghs_test")
        .scope(REPO, url=f"https://github.com/{REPO}")
        .build(plugin)
    )
    return Runner(plugin, ctx)


def test_runs_and_jobs_land_in_the_domain_layer(json_server: JsonServer, store_url: str) -> None:
    serve(json_server)
    results = runner(json_server, store_url).run()
    assert [(r.stream, r.step, r.records) for r in results] == [
        ("workflow_runs", "collect", 3),
        ("workflow_runs", "extract", 3),
        ("workflow_runs", "convert", 3 + 3 + 1),  # pipelines, commits, the scope
        ("jobs", "collect", 4),
        ("jobs", "extract", 4),
        ("jobs", "convert", 4),
    ]
    assert query(
        store_url,
        "SELECT id, result, status, original_status, duration_sec, queued_duration_sec, "
        "cicd_scope_id FROM {s}cicd_pipelines ORDER BY id",
    ) == [
        (
            "github:GitHubRun:1:101",
            "ABORT",
            "DONE",
            "completed",
            30.0,
            30.0,
            f"github:GithubRepo:1:{REPO}",
        ),
        (
            "github:GitHubRun:1:102",
            "FAILURE",
            "DONE",
            "completed",
            270.0,
            30.0,
            f"github:GithubRepo:1:{REPO}",
        ),
        (
            "github:GitHubRun:1:103",
            None,
            "IN_PROGRESS",
            "in_progress",
            None,
            30.0,
            f"github:GithubRepo:1:{REPO}",
        ),
    ]
    assert query(
        store_url,
        "SELECT pipeline_id, name, result, status, duration_sec FROM {s}cicd_tasks ORDER BY id",
    ) == [
        ("github:GitHubRun:1:101", "test-1011", "ABORT", "DONE", 120.0),
        ("github:GitHubRun:1:102", "test-1021", "SUCCESS", "DONE", 120.0),
        ("github:GitHubRun:1:102", "test-1022", "FAILURE", "DONE", 120.0),
        ("github:GitHubRun:1:103", "test-1031", None, "IN_PROGRESS", None),
    ]
    assert query(
        store_url,
        "SELECT commit_sha, branch FROM {s}cicd_pipeline_commits "
        "WHERE pipeline_id = 'github:GitHubRun:1:102'",
    ) == [(f"{102:040x}", "main")]
    assert query(store_url, "SELECT id, name, url FROM {s}cicd_scopes") == [
        (f"github:GithubRepo:1:{REPO}", REPO, f"https://github.com/{REPO}")
    ]
    assert len(json_server.seen(f"{BASE}/102/jobs")) == 2  # the 500 was retried


def test_the_next_collection_is_incremental(json_server: JsonServer, tmp_path: Any) -> None:
    db = f"sqlite:///{tmp_path}/w.db"
    serve(json_server)
    runner(json_server, db).run()
    json_server.requests.clear()

    serve(json_server, open_run_done=True)  # run 103 has finished since
    json_server.route(
        BASE,
        {
            "total_count": 1,
            "workflow_runs": [
                run(103, "completed", "success", "2026-11-20T12:00:00Z", "2026-11-20T12:09:00Z")
            ],
        },
    )
    runner(json_server, db).run()
    asked = json_server.seen(BASE)
    assert [r.query.get("created") for r in asked] == [">=2026-11-20T12:00:00Z"]
    # Only the run that changed had its jobs fetched again.
    fetched = {r.path for r in json_server.requests if r.path.endswith("/jobs")}
    assert fetched == {f"{BASE}/103/jobs"}
    assert query(db, "SELECT id, result, status, duration_sec FROM cicd_pipelines ORDER BY id") == [
        ("github:GitHubRun:1:101", "ABORT", "DONE", 30.0),
        ("github:GitHubRun:1:102", "FAILURE", "DONE", 270.0),
        ("github:GitHubRun:1:103", "SUCCESS", "DONE", 510.0),
    ]
    assert query(db, "SELECT result, status FROM cicd_tasks WHERE name = 'test-1031'") == [
        ("SUCCESS", "DONE")
    ]
    assert query(db, "SELECT count(*) FROM _tool_github_jobs") == [(4,)]


def test_assert_stream_convert_on_a_workflow_run() -> None:
    raw = run(7, "completed", "timed_out", "2026-11-20T10:00:00Z", "2026-11-20T10:10:00Z")
    ctx = ContextBuilder().connection(token="x").scope(REPO).build(GitHubActions)
    pipeline_id = "github:GitHubRun:1:7"
    from datetime import datetime, timezone

    def at(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)

    assert_stream_convert(
        GitHubActions,
        "workflow_runs",
        raw,
        [
            devops.CICDPipeline(
                id=pipeline_id,
                name="CI",
                display_title="Change 7",
                url=raw["html_url"],
                result="FAILURE",
                status="DONE",
                original_result="timed_out",
                original_status="completed",
                created_date=at("2026-11-20T10:00:00"),
                queued_date=at("2026-11-20T10:00:00"),
                started_date=at("2026-11-20T10:00:30"),
                finished_date=at("2026-11-20T10:10:00"),
                duration_sec=570.0,
                queued_duration_sec=30.0,
                cicd_scope_id=f"github:GithubRepo:1:{REPO}",
            ),
            devops.CICDPipelineCommit(
                pipeline_id=pipeline_id,
                commit_sha=f"{7:040x}",
                branch="main",
                repo_id=f"github:GithubRepo:1:{REPO}",
                display_title="Change 7",
                url=raw["html_url"],
            ),
        ],
        ctx,
    )
