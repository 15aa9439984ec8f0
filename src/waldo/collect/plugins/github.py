"""GitHub Actions: workflow runs and their jobs into ``cicd_pipelines`` and ``cicd_tasks``.

Context::

    {"db_url": "sqlite:///.waldo/waldo.db",
     "connection": {"token": "ghp_...", "url": "https://api.github.com"},
     "scope": {"id": "octo-org/hello-world"}}

The REST API is paginated with ``Link`` headers (100 per page). Collection is
incremental: the next collection asks only for runs created since the oldest run that
was still unfinished (or the newest run) last time, and fetches jobs again only for
runs that changed since their jobs were collected. ``url`` points at GitHub Enterprise
(``https://github.example.com/api/v3``) or, in tests, at a local server.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from sqlmodel import Field

from waldo._errors import InvalidInput
from waldo.collect import message as msg
from waldo.collect.api import API, LinkHeaderPaginator, Request, request_hook
from waldo.collect.context import Context
from waldo.collect.domain_layer import devops
from waldo.collect.model import Connection, DomainModel, SecretStr, ToolModel, ToolScope
from waldo.collect.plugin import Plugin
from waldo.collect.stream import DomainType, Records, Stream, Substream

__all__ = ["GitHubActions", "GitHubConnection", "GitHubJob", "GitHubRepo", "GitHubRun"]

#: GitHub's words -> DevLake's (result, status).
RESULTS = {
    "success": devops.SUCCESS,
    "neutral": devops.SUCCESS,
    "failure": devops.FAILURE,
    "timed_out": devops.FAILURE,
    "startup_failure": devops.FAILURE,
    "cancelled": devops.ABORT,
    "skipped": devops.ABORT,
    "stale": devops.ABORT,
    "action_required": devops.MANUAL,
}
IN_PROGRESS = {"queued", "in_progress", "waiting", "requested", "pending"}


def result_of(conclusion: str | None) -> str | None:
    return RESULTS.get(conclusion or "") if conclusion else None


def status_of(status: str | None) -> str:
    if status == "completed":
        return devops.DONE
    return devops.IN_PROGRESS if status in IN_PROGRESS else devops.OTHER


def seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


class GitHubConnection(Connection):
    """A GitHub (or GitHub Enterprise) API endpoint and a token that may read Actions."""

    url: str = "https://api.github.com"
    token: SecretStr


class GitHubRepo(ToolScope):
    """A repository, ``owner/name``."""

    url: str | None = None


class GitHubRun(ToolModel, table=True):
    __tablename__ = "_tool_github_runs"

    id: int = Field(primary_key=True)
    name: str | None = None
    display_title: str | None = None
    run_number: int | None = None
    run_attempt: int | None = None
    event: str | None = None
    status: str | None = None
    conclusion: str | None = None
    workflow_id: int | None = None
    head_branch: str | None = None
    head_sha: str | None = None
    html_url: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    run_started_at: datetime | None = None


class GitHubJob(ToolModel, table=True):
    __tablename__ = "_tool_github_jobs"

    id: int = Field(primary_key=True)
    run_id: int
    name: str | None = None
    status: str | None = None
    conclusion: str | None = None
    head_sha: str | None = None
    head_branch: str | None = None
    html_url: str | None = None
    runner_name: str | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None


class GitHubAPI(API):
    """GitHub's REST API: token auth, Link-header pagination, 100 items a page."""

    paginator = LinkHeaderPaginator()

    def __init__(self, connection: GitHubConnection) -> None:
        self.base = connection.url.rstrip("/")
        self._token = connection.token

    @request_hook
    def authenticate(self, request: Request) -> None:
        request.headers["Authorization"] = f"Bearer {self._token.get_secret_value()}"
        request.headers["Accept"] = "application/vnd.github+json"
        request.headers["X-GitHub-Api-Version"] = "2022-11-28"

    def paged(self, items_attr: str | None, *path: str, **query: Any) -> Iterator[Any]:
        self.paginator = LinkHeaderPaginator(items_attr)
        yield from self.get(self.base, *path, per_page=100, **query)

    def user(self) -> Any:
        return self.get(self.base, "user").json()

    def runs(self, repo: str, created_since: str | None) -> Iterator[dict[str, Any]]:
        query = {"created": f">={created_since}"} if created_since else {}
        return self.paged("workflow_runs", "repos", repo, "actions", "runs", **query)

    def jobs(self, repo: str, run_id: int) -> Iterator[dict[str, Any]]:
        return self.paged("jobs", "repos", repo, "actions", "runs", str(run_id), "jobs")


def _repo(context: Context) -> str:
    repo = context.scope_id
    if repo.count("/") != 1:
        raise InvalidInput(
            f"The GitHub scope id must be a repository 'owner/name', not '{repo}': "
            """add "scope": {"id": "owner/name"} to the context."""
        )
    return repo


def _scope_id(context: Context) -> str:
    return context.domain_id("github", "GithubRepo", context.scope_id)


class WorkflowRuns(Stream):
    """Workflow runs of the scope's repository, newest first."""

    tool_model = GitHubRun
    domain_types = [DomainType.CICD]

    def collect(self, state: dict[str, Any], context: Context) -> Records:
        api = GitHubAPI(context.connection)  # type: ignore[arg-type]
        oldest_open: str | None = None
        newest: str | None = None
        previous: dict[str, Any] | None = None
        for run in api.runs(_repo(context), state.get("created_since")):
            created = run.get("created_at")
            newest = max(filter(None, (newest, created)), default=None)
            if run.get("status") != "completed" and created:
                oldest_open = min(filter(None, (oldest_open, created)))
            # Newest first: the new state is known only after the last page, so every
            # record but the last keeps the old state (a crash re-collects, never skips).
            if previous is not None:
                yield previous, state
            previous = run
        if previous is not None:
            yield previous, {"created_since": oldest_open or newest}

    def convert(self, run: GitHubRun, context: Context) -> Iterable[DomainModel]:
        finished = run.updated_at if run.status == "completed" else None
        pipeline_id = self.domain_id(run.id, context=context)
        yield devops.CICDPipeline(
            id=pipeline_id,
            name=run.name,
            display_title=run.display_title,
            url=run.html_url,
            result=result_of(run.conclusion),
            status=status_of(run.status),
            original_result=run.conclusion,
            original_status=run.status,
            created_date=run.created_at,
            queued_date=run.created_at,
            started_date=run.run_started_at,
            finished_date=finished,
            duration_sec=seconds_between(run.run_started_at, finished),
            queued_duration_sec=seconds_between(run.created_at, run.run_started_at),
            cicd_scope_id=_scope_id(context),
        )
        if run.head_sha:
            yield devops.CICDPipelineCommit(
                pipeline_id=pipeline_id,
                commit_sha=run.head_sha,
                branch=run.head_branch,
                repo_id=_scope_id(context),
                repo_url=context.scope.url if isinstance(context.scope, GitHubRepo) else None,
                display_title=run.display_title,
                url=run.html_url,
            )


class Jobs(Substream):
    """The jobs of each workflow run; a run's jobs are fetched again only if it changed."""

    tool_model = GitHubJob
    domain_types = [DomainType.CICD]
    parent_stream = WorkflowRuns

    def collect(  # type: ignore[override]
        self, state: dict[str, Any], context: Context, run: GitHubRun
    ) -> Records:
        seen: dict[str, str] = dict(state.get("runs", {}))
        version = f"{run.updated_at}:{run.status}"
        if seen.get(str(run.id)) == version and run.status == "completed":
            return
        jobs = list(GitHubAPI(context.connection).jobs(_repo(context), run.id))  # type: ignore[arg-type]
        seen[str(run.id)] = version
        for index, job in enumerate(jobs):
            yield job, ({**state, "runs": seen} if index == len(jobs) - 1 else state)

    def convert(self, job: GitHubJob, context: Context) -> Iterable[DomainModel]:
        finished = job.completed_at if job.status == "completed" else None
        yield devops.CICDTask(
            id=self.domain_id(job.id, context=context),
            name=job.name,
            pipeline_id=context.domain_id("github", "GitHubRun", job.run_id),
            result=result_of(job.conclusion),
            status=status_of(job.status),
            original_result=job.conclusion,
            original_status=job.status,
            type=devops.BUILD,
            created_date=job.created_at,
            queued_date=job.created_at,
            started_date=job.started_at,
            finished_date=finished,
            duration_sec=seconds_between(job.started_at, finished),
            queued_duration_sec=seconds_between(job.created_at, job.started_at),
            cicd_scope_id=_scope_id(context),
        )


class GitHubActions(Plugin):
    """GitHub Actions workflow runs and jobs."""

    name = "github"

    @property
    def connection_type(self) -> type[GitHubConnection]:
        return GitHubConnection

    @property
    def tool_scope_type(self) -> type[GitHubRepo]:
        return GitHubRepo

    @property
    def streams(self) -> list[type[Stream]]:
        return [WorkflowRuns, Jobs]

    def test_connection(self, connection: GitHubConnection) -> msg.TestConnectionResult:
        login = GitHubAPI(connection).user().get("login", "?")
        return msg.TestConnectionResult(success=True, message=f"authenticated as {login}")

    def domain_scopes(self, tool_scope: ToolScope) -> Iterable[devops.CICDScope]:
        yield devops.CICDScope(
            id=f"github:GithubRepo:{tool_scope.connection_id}:{tool_scope.id}",
            name=tool_scope.name or tool_scope.id,
            url=getattr(tool_scope, "url", None),
        )

    def remote_scope_groups(self, connection: GitHubConnection) -> list[msg.RemoteScopeGroup]:
        api = GitHubAPI(connection)
        login = api.user().get("login", "")
        groups = [msg.RemoteScopeGroup(id=login, name=login)]
        groups += [
            msg.RemoteScopeGroup(id=o["login"], name=o["login"])
            for o in api.paged(None, "user", "orgs")
        ]
        return groups

    def remote_scopes(self, connection: GitHubConnection, group_id: str) -> list[ToolScope]:
        api = GitHubAPI(connection)
        return [
            GitHubRepo(id=r["full_name"], name=r["name"], url=r.get("html_url"))
            for r in api.paged(None, "users", group_id, "repos")
        ]
