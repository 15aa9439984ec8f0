"""GitHub: the REST API's documented responses, served by a local HTTP server, into
cicd_pipelines, cicd_tasks and their commits, and pull requests with their commits."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from tests.collect._github_api import job, page, pull_commit, pull_request, workflow_run
from tests.collect._helpers import context, count, query, waldo
from waldo.collect._runner import Runner
from waldo.collect.domain_layer import devops
from waldo.collect.plugins.github import GitHubActions
from waldo.collect.testing import ContextBuilder, JsonServer, Reply, assert_stream_convert

REPO = "octocat/Hello-World"
BASE = f"/repos/{REPO}/actions/runs"
PULLS = f"/repos/{REPO}/pulls"
SCOPE = f"github:GithubRepo:1:{REPO}"
PR_HEAD = "6dcb09b5b57875f334f61aebed695e2e4193db5e"  # the documented pull request's head


def run(run_id: int, status: str, conclusion: str | None, created: str, updated: str) -> Any:
    return workflow_run(
        run_id,
        status=status,
        conclusion=conclusion,
        created_at=created,
        updated_at=updated,
        run_started_at=created.replace(":00Z", ":30Z"),
        head_sha=f"{run_id:040x}",
        head_branch="main",
        display_title=f"Change {run_id}",
    )


def finished_job(
    job_id: int, run_id: int, conclusion: str | None, status: str = "completed"
) -> Any:
    return job(
        job_id,
        run_id,
        status=status,
        conclusion=conclusion,
        created_at="2026-11-20T10:00:00Z",
        started_at="2026-11-20T10:00:10Z",
        completed_at="2026-11-20T10:02:10Z" if status == "completed" else None,
    )


def serve_pulls(server: JsonServer) -> None:
    """Two pull requests, the newest update first; the first is merged."""
    merged = pull_request(
        11,
        1347,
        PR_HEAD,
        state="closed",
        created_at="2026-11-19T09:00:00Z",
        updated_at="2026-11-20T13:00:00Z",
        closed_at="2026-11-20T13:00:00Z",
        merged_at="2026-11-20T13:00:00Z",
    )
    opened = pull_request(
        10,
        1346,
        "f" * 40,
        state="open",
        title="Work in progress",
        created_at="2026-11-18T09:00:00Z",
        updated_at="2026-11-18T10:00:00Z",
        closed_at=None,
        merged_at=None,
        merge_commit_sha=None,
    )
    server.route(PULLS, page(None, [merged, opened]))
    server.route(
        f"{PULLS}/1347/commits",
        page(None, [pull_commit("a" * 40, "First try"), pull_commit(PR_HEAD, "Fix all the bugs")]),
    )
    server.route(f"{PULLS}/1346/commits", page(None, [pull_commit("f" * 40, "WIP")]))


def serve(server: JsonServer, open_run_done: bool = False) -> None:
    server.require_header("authorization", "Bearer ghs_test")
    newest = run(
        103,
        "completed" if open_run_done else "in_progress",
        "success" if open_run_done else None,
        "2026-11-20T12:00:00Z",
        "2026-11-20T12:09:00Z",
    )
    newest.update(event="pull_request", head_sha=PR_HEAD)  # built for pull request 1347
    page1 = page(
        "workflow_runs",
        [newest, run(102, "completed", "failure", "2026-11-20T11:00:00Z", "2026-11-20T11:05:00Z")],
    )
    page1["total_count"] = 3
    page2 = page(
        "workflow_runs",
        [run(101, "completed", "cancelled", "2026-11-20T10:00:00Z", "2026-11-20T10:01:00Z")],
    )
    page2["total_count"] = 3
    server.route(
        BASE,
        Reply(page1, headers={"Link": f'<{{url}}{BASE}?per_page=100&page=2>; rel="next"'}),
    )
    server.route(f"{BASE}?page=2", page2)
    server.route(
        f"{BASE}/103/jobs",
        page(
            "jobs",
            [
                finished_job(
                    1031,
                    103,
                    "success" if open_run_done else None,
                    "completed" if open_run_done else "in_progress",
                )
            ],
        ),
    )
    # A server hiccup: the first answer for run 102's jobs is a 500.
    server.route(
        f"{BASE}/102/jobs",
        Reply({"message": "Server Error"}, 500),
        page("jobs", [finished_job(1021, 102, "success"), finished_job(1022, 102, "failure")]),
    )
    server.route(f"{BASE}/101/jobs", page("jobs", [finished_job(1011, 101, "cancelled")]))
    serve_pulls(server)


def runner(server: JsonServer, db_url: str) -> Runner:
    plugin = GitHubActions()
    ctx = (
        ContextBuilder(db_url=db_url)
        .connection(url=server.url, token="ghs_test")
        .scope(REPO, url=f"https://github.com/{REPO}")
        .build(plugin)
    )
    return Runner(plugin, ctx)


def cli_context(server: JsonServer, db_url: str) -> str:
    return context(
        db_url,
        connection={"url": server.url, "token": "ghs_test"},
        scope={"id": REPO, "url": f"https://github.com/{REPO}"},
    )


def test_runs_and_jobs_land_in_the_domain_layer(json_server: JsonServer, store_url: str) -> None:
    serve(json_server)
    results = runner(json_server, store_url).run(["workflow_runs", "jobs"])
    assert [(r.stream, r.step, r.records) for r in results] == [
        ("workflow_runs", "collect", 3),
        ("workflow_runs", "extract", 3),
        ("workflow_runs", "convert", 3 + 3 + 2),  # pipelines, commits, the scope as 2 rows
        ("jobs", "collect", 4),
        ("jobs", "extract", 4),
        ("jobs", "convert", 4),
    ]
    assert query(
        store_url,
        "SELECT id, result, status, original_status, duration_sec, queued_duration_sec, "
        "cicd_scope_id FROM {s}cicd_pipelines ORDER BY id",
    ) == [
        ("github:GitHubRun:1:101", "ABORT", "DONE", "completed", 30.0, 30.0, SCOPE),
        ("github:GitHubRun:1:102", "FAILURE", "DONE", "completed", 270.0, 30.0, SCOPE),
        ("github:GitHubRun:1:103", None, "IN_PROGRESS", "in_progress", None, 30.0, SCOPE),
    ]
    assert query(
        store_url,
        "SELECT pipeline_id, name, result, status, duration_sec FROM {s}cicd_tasks ORDER BY id",
    ) == [
        ("github:GitHubRun:1:101", "build-1011", "ABORT", "DONE", 120.0),
        ("github:GitHubRun:1:102", "build-1021", "SUCCESS", "DONE", 120.0),
        ("github:GitHubRun:1:102", "build-1022", "FAILURE", "DONE", 120.0),
        ("github:GitHubRun:1:103", "build-1031", None, "IN_PROGRESS", None),
    ]
    assert query(
        store_url,
        "SELECT commit_sha, branch FROM {s}cicd_pipeline_commits "
        "WHERE pipeline_id = 'github:GitHubRun:1:102'",
    ) == [(f"{102:040x}", "main")]
    assert query(store_url, "SELECT id, name, url FROM {s}cicd_scopes") == [
        (SCOPE, REPO, f"https://github.com/{REPO}")
    ]
    assert query(store_url, "SELECT id, name FROM {s}repos") == [(SCOPE, REPO)]
    assert len(json_server.seen(f"{BASE}/102/jobs")) == 2  # the 500 was retried


def test_runs_join_the_pull_requests_that_triggered_them(
    json_server: JsonServer, store_url: str
) -> None:
    serve(json_server)
    results = runner(json_server, store_url).run()
    assert [(r.stream, r.step, r.records) for r in results][6:] == [
        ("pull_requests", "collect", 2),
        ("pull_requests", "extract", 2),
        ("pull_requests", "convert", 2),
        ("pull_request_commits", "collect", 3),
        ("pull_request_commits", "extract", 3),
        ("pull_request_commits", "convert", 6),  # a commit and its pull request link each
    ]
    assert query(
        store_url,
        "SELECT id, status, original_status, pull_request_key, base_repo_id, head_ref, "
        "base_ref, head_commit_sha, author_name FROM {s}pull_requests ORDER BY id",
    ) == [
        ("github:GitHubPullRequest:1:10", "OPEN", "open", 1346, SCOPE, "new-topic", "master",
         "f" * 40, "octocat"),
        ("github:GitHubPullRequest:1:11", "MERGED", "closed", 1347, SCOPE, "new-topic", "master",
         PR_HEAD, "octocat"),
    ]  # fmt: skip
    assert query(
        store_url,
        "SELECT pull_request_id, commit_sha, commit_author_name FROM {s}pull_request_commits "
        "ORDER BY pull_request_id, commit_sha",
    ) == [
        ("github:GitHubPullRequest:1:10", "f" * 40, "Monalisa Octocat"),
        ("github:GitHubPullRequest:1:11", PR_HEAD, "Monalisa Octocat"),
        ("github:GitHubPullRequest:1:11", "a" * 40, "Monalisa Octocat"),
    ]
    assert query(store_url, "SELECT message FROM {s}commits WHERE sha = :sha", sha=PR_HEAD) == [
        ("Fix all the bugs",)
    ]
    # The question a team asks: which pull request triggered this run?
    joined = query(
        store_url,
        "SELECT p.id, pr.pull_request_key, pr.title FROM {s}cicd_pipelines p "
        "JOIN {s}cicd_pipeline_commits c ON c.pipeline_id = p.id "
        "JOIN {s}pull_requests pr ON pr.head_commit_sha = c.commit_sha",
    )
    assert joined == [("github:GitHubRun:1:103", 1347, "Amazing new feature")]


def test_the_next_collection_is_incremental(json_server: JsonServer, tmp_path: Any) -> None:
    db = f"sqlite:///{tmp_path}/w.db"
    serve(json_server)
    runner(json_server, db).run()
    json_server.requests.clear()

    serve(json_server, open_run_done=True)  # run 103 has finished since
    json_server.route(
        BASE,
        page(
            "workflow_runs",
            [run(103, "completed", "success", "2026-11-20T12:00:00Z", "2026-11-20T12:09:00Z")],
        ),
    )
    runner(json_server, db).run()
    asked = json_server.seen(BASE)
    assert [r.query.get("created") for r in asked] == [">=2026-11-20T12:00:00Z"]
    # Only the run that changed had its jobs fetched again; no pull request changed.
    fetched = {r.path for r in json_server.requests if r.path.endswith(("/jobs", "/commits"))}
    assert fetched == {f"{BASE}/103/jobs"}
    assert query(db, "SELECT id, result, status, duration_sec FROM cicd_pipelines ORDER BY id") == [
        ("github:GitHubRun:1:101", "ABORT", "DONE", 30.0),
        ("github:GitHubRun:1:102", "FAILURE", "DONE", 270.0),
        ("github:GitHubRun:1:103", "SUCCESS", "DONE", 510.0),
    ]
    assert query(db, "SELECT result, status FROM cicd_tasks WHERE name = 'build-1031'") == [
        ("SUCCESS", "DONE")
    ]
    assert query(db, "SELECT count(*) FROM _tool_github_jobs") == [(4,)]
    assert count(db, "_raw_github_pull_requests") == 2  # none collected twice
    assert count(db, "_raw_github_pull_request_commits") == 3


def test_an_updated_pull_request_is_collected_again_with_its_commits(
    json_server: JsonServer, tmp_path: Any
) -> None:
    db = f"sqlite:///{tmp_path}/w.db"
    serve(json_server)
    runner(json_server, db).run(["pull_requests", "pull_request_commits"])
    json_server.requests.clear()
    reopened = pull_request(
        10, 1346, "e" * 40, state="open", updated_at="2026-11-21T08:00:00Z", merged_at=None
    )
    json_server.route(PULLS, page(None, [reopened]))
    json_server.route(f"{PULLS}/1346/commits", page(None, [pull_commit("e" * 40, "Rebased")]))
    runner(json_server, db).run(["pull_requests", "pull_request_commits"])
    fetched = [r.path for r in json_server.requests if r.path.endswith("/commits")]
    assert fetched == [f"{PULLS}/1346/commits"]
    assert query(db, "SELECT head_commit_sha FROM pull_requests WHERE pull_request_key = 1346") == [
        ("e" * 40,)
    ]
    # Commits are added to what was collected: one a force-push removed stays listed
    # until a --full collection (the raw layer is append-only between full ones).
    assert query(
        db,
        "SELECT commit_sha FROM pull_request_commits "
        "WHERE pull_request_id = 'github:GitHubPullRequest:1:10' ORDER BY commit_sha",
    ) == [("e" * 40,), ("f" * 40,)]


def test_a_substream_before_its_parent_says_how_to_get_its_rows(
    json_server: JsonServer, tmp_path: Any
) -> None:
    db = f"sqlite:///{tmp_path}/w.db"
    serve(json_server)
    ctx = cli_context(json_server, db)
    early = waldo("collect", "github", "collect", ctx, "jobs")
    assert early.returncode == 2, early.stderr
    assert early.stderr.strip().splitlines() == [
        "error: jobs collects for each workflow_runs record, and workflow_runs has no tool "
        "rows yet for this scope (not collected): run `collect, then extract CONTEXT_JSON "
        "workflow_runs` first, or `run CONTEXT_JSON workflow_runs jobs`."
    ]
    assert waldo("collect", "github", "collect", ctx, "workflow_runs").returncode == 0
    halfway = waldo("collect", "github", "collect", ctx, "jobs")
    assert halfway.returncode == 2
    assert "(not extracted): run `extract CONTEXT_JSON workflow_runs` first" in halfway.stderr
    assert waldo("collect", "github", "extract", ctx, "workflow_runs").returncode == 0
    done = waldo("collect", "github", "collect", ctx, "jobs")
    assert done.returncode == 0, done.stderr
    assert "collect jobs: 4 records" in done.stdout


def test_log_level_shows_retries(json_server: JsonServer, tmp_path: Any) -> None:
    db = f"sqlite:///{tmp_path}/w.db"
    serve(json_server)
    ctx = cli_context(json_server, db)
    assert waldo("collect", "github", "run", ctx, "workflow_runs").returncode == 0
    shown = waldo("collect", "github", "run", ctx, "jobs")  # INFO by default
    assert shown.returncode == 0, shown.stderr
    assert f"{BASE}/102/jobs?per_page=100: HTTP 500; try 2 of" in shown.stderr
    serve(json_server)  # the hiccup again
    json_server.route(f"{BASE}/102/jobs", Reply({"message": "Server Error"}, 500),
                      page("jobs", [finished_job(1021, 102, "success")]))  # fmt: skip
    quiet = waldo("collect", "--log-level", "WARNING", "github", "run", "--full", ctx, "jobs")
    assert quiet.returncode == 0, quiet.stderr
    assert "HTTP 500" not in quiet.stderr
    assert len(json_server.seen(f"{BASE}/102/jobs")) == 4  # retried both times
    plugin_own = waldo("collect", "github", "--log-level", "DEBUG", "collect", ctx, "jobs")
    assert plugin_own.returncode == 0, plugin_own.stderr
    assert "GET " in plugin_own.stderr  # DEBUG: every request


def test_assert_stream_convert_on_a_workflow_run() -> None:
    raw = run(7, "completed", "timed_out", "2026-11-20T10:00:00Z", "2026-11-20T10:10:00Z")
    ctx = ContextBuilder().connection(token="x").scope(REPO).build(GitHubActions)
    pipeline_id = "github:GitHubRun:1:7"

    def at(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)

    assert_stream_convert(
        GitHubActions,
        "workflow_runs",
        raw,
        [
            devops.CICDPipeline(
                id=pipeline_id,
                name="Build",
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
                cicd_scope_id=SCOPE,
            ),
            devops.CICDPipelineCommit(
                pipeline_id=pipeline_id,
                commit_sha=f"{7:040x}",
                branch="main",
                repo_id=SCOPE,
                display_title="Change 7",
                url=raw["html_url"],
            ),
        ],
        ctx,
    )
