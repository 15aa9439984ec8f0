"""GitHub: workflow runs and their jobs into ``cicd_pipelines`` and ``cicd_tasks``; pull
requests and their commits into ``pull_requests``, ``pull_request_commits`` and
``commits``, so a run joins the pull request that triggered it by its head commit.

Context::

    {"db_url": "sqlite:///.waldo/waldo.db",
     "connection": {"token": "ghp_...", "url": "https://api.github.com"},
     "scope": {"id": "octo-org/hello-world"}}

The REST API is paginated with ``Link`` headers (100 per page). Collection is
incremental: the next collection asks only for runs created since the oldest run that
was still unfinished (or the newest run) last time, and fetches jobs again only for
runs that changed since their jobs were collected. Pull requests are read newest
update first and only down to the newest update seen last time; their commits are
fetched again only for pull requests that changed. ``url`` points at GitHub Enterprise
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
from waldo.collect.domain_layer import code, devops
from waldo.collect.model import (
    Connection,
    DomainModel,
    DomainScope,
    SecretStr,
    ToolModel,
    ToolScope,
)
from waldo.collect.plugin import Plugin
from waldo.collect.stream import DomainType, Records, Stream, Substream

__all__ = [
    "GitHubActions",
    "GitHubConnection",
    "GitHubJob",
    "GitHubPullRequest",
    "GitHubPullRequestCommit",
    "GitHubRepo",
    "GitHubRun",
]

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


class GitHubPullRequest(ToolModel, table=True):
    __tablename__ = "_tool_github_pull_requests"

    id: int = Field(primary_key=True)
    number: int | None = None
    state: str | None = None
    title: str | None = None
    body: str | None = None
    html_url: str | None = None
    user_login: str | None = None
    user_id: int | None = None
    draft: bool | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    closed_at: datetime | None = None
    merged_at: datetime | None = None
    merge_commit_sha: str | None = None
    head_ref: str | None = None
    head_sha: str | None = None
    head_repo: str | None = None
    base_ref: str | None = None
    base_sha: str | None = None
    base_repo: str | None = None


class GitHubPullRequestCommit(ToolModel, table=True):
    __tablename__ = "_tool_github_pull_request_commits"

    pull_request_id: int = Field(primary_key=True)
    sha: str = Field(primary_key=True)
    message: str | None = None
    author_name: str | None = None
    author_email: str | None = None
    authored_date: datetime | None = None
    committer_name: str | None = None
    committer_email: str | None = None
    committed_date: datetime | None = None


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

    def pulls(self, repo: str) -> Iterator[dict[str, Any]]:
        """Every pull request, the most recently updated first."""
        return self.paged(
            None, "repos", repo, "pulls", state="all", sort="updated", direction="desc"
        )

    def pull_commits(self, repo: str, number: int) -> Iterator[dict[str, Any]]:
        return self.paged(None, "repos", repo, "pulls", str(number), "commits")


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


def _repo_id(context: Context, full_name: str | None) -> str | None:
    return context.domain_id("github", "GithubRepo", full_name) if full_name else None


#: GitHub's pull request state (and merge time) -> DevLake's status.
def pull_request_status(state: str | None, merged_at: datetime | None) -> str | None:
    if merged_at is not None:
        return code.MERGED
    return {"open": code.OPEN, "closed": code.CLOSED}.get(state or "")


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


def _nested(record: dict[str, Any], *keys: str) -> Any:
    value: Any = record
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


class PullRequests(Stream):
    """The repository's pull requests, the most recently updated first, down to the
    newest update the last collection saw."""

    tool_model = GitHubPullRequest
    domain_types = [DomainType.CODE]

    def collect(self, state: dict[str, Any], context: Context) -> Records:
        api = GitHubAPI(context.connection)  # type: ignore[arg-type]
        since: str | None = state.get("updated_since")
        seen_at_since = set(state.get("ids_at_since", []))
        newest: str | None = None
        at_newest: list[int] = []
        previous: dict[str, Any] | None = None
        for pull in api.pulls(_repo(context)):
            updated = pull.get("updated_at") or ""
            if since and (updated < since or (updated == since and pull["id"] in seen_at_since)):
                break  # sorted by update: everything from here was collected before
            if newest is None or updated > newest:
                newest, at_newest = updated, [pull["id"]]
            elif updated == newest:
                at_newest.append(pull["id"])
            if previous is not None:
                yield previous, state  # the new state is known after the last record
            previous = pull
        if previous is not None:
            yield previous, {"updated_since": newest, "ids_at_since": at_newest}

    def extract(self, raw_data: dict[str, Any]) -> GitHubPullRequest:
        return GitHubPullRequest.model_validate(
            {
                **{k: raw_data.get(k) for k in GitHubPullRequest.model_fields if k in raw_data},
                "user_login": _nested(raw_data, "user", "login"),
                "user_id": _nested(raw_data, "user", "id"),
                "head_ref": _nested(raw_data, "head", "ref"),
                "head_sha": _nested(raw_data, "head", "sha"),
                "head_repo": _nested(raw_data, "head", "repo", "full_name"),
                "base_ref": _nested(raw_data, "base", "ref"),
                "base_sha": _nested(raw_data, "base", "sha"),
                "base_repo": _nested(raw_data, "base", "repo", "full_name"),
            }
        )

    def convert(self, pull: GitHubPullRequest, context: Context) -> Iterable[DomainModel]:
        yield code.PullRequest(
            id=self.domain_id(pull.id, context=context),
            base_repo_id=_repo_id(context, pull.base_repo) or _scope_id(context),
            head_repo_id=_repo_id(context, pull.head_repo),
            status=pull_request_status(pull.state, pull.merged_at),
            original_status=pull.state,
            title=pull.title,
            description=pull.body,
            url=pull.html_url,
            author_name=pull.user_login,
            author_id=context.domain_id("github", "GithubAccount", pull.user_id)
            if pull.user_id is not None
            else None,
            pull_request_key=pull.number,
            created_date=pull.created_at,
            merged_date=pull.merged_at,
            closed_date=pull.closed_at,
            merge_commit_sha=pull.merge_commit_sha,
            head_ref=pull.head_ref,
            base_ref=pull.base_ref,
            head_commit_sha=pull.head_sha,
            base_commit_sha=pull.base_sha,
            is_draft=pull.draft,
        )


class PullRequestCommits(Substream):
    """The commits of each pull request; fetched again only for pull requests updated
    since their commits were collected."""

    tool_model = GitHubPullRequestCommit
    domain_types = [DomainType.CODE]
    parent_stream = PullRequests

    def collect(  # type: ignore[override]
        self, state: dict[str, Any], context: Context, pull: GitHubPullRequest
    ) -> Records:
        seen: dict[str, str] = dict(state.get("pulls", {}))
        version = str(pull.updated_at)
        if seen.get(str(pull.id)) == version:
            return
        commits = list(GitHubAPI(context.connection).pull_commits(_repo(context), pull.number))  # type: ignore[arg-type]
        seen[str(pull.id)] = version
        for index, commit in enumerate(commits):
            yield commit, ({**state, "pulls": seen} if index == len(commits) - 1 else state)

    def extract(  # type: ignore[override]
        self, raw_data: dict[str, Any], parent: dict[str, Any] | None
    ) -> GitHubPullRequestCommit:
        if parent is None:
            raise InvalidInput("A pull request commit was collected without its pull request.")
        return GitHubPullRequestCommit.model_validate(
            {
                "pull_request_id": parent["id"],
                "sha": raw_data["sha"],
                "message": _nested(raw_data, "commit", "message"),
                "author_name": _nested(raw_data, "commit", "author", "name"),
                "author_email": _nested(raw_data, "commit", "author", "email"),
                "authored_date": _nested(raw_data, "commit", "author", "date"),
                "committer_name": _nested(raw_data, "commit", "committer", "name"),
                "committer_email": _nested(raw_data, "commit", "committer", "email"),
                "committed_date": _nested(raw_data, "commit", "committer", "date"),
            }
        )

    def convert(self, commit: GitHubPullRequestCommit, context: Context) -> Iterable[DomainModel]:
        yield code.Commit(
            sha=commit.sha,
            message=commit.message,
            author_name=commit.author_name,
            author_email=commit.author_email,
            authored_date=commit.authored_date,
            committer_name=commit.committer_name,
            committer_email=commit.committer_email,
            committed_date=commit.committed_date,
        )
        yield code.PullRequestCommit(
            commit_sha=commit.sha,
            pull_request_id=context.domain_id(
                "github", "GitHubPullRequest", commit.pull_request_id
            ),
            commit_author_name=commit.author_name,
            commit_author_email=commit.author_email,
            commit_authored_date=commit.authored_date,
        )


class GitHubActions(Plugin):
    """GitHub Actions workflow runs and jobs, pull requests and their commits."""

    name = "github"

    @property
    def connection_type(self) -> type[GitHubConnection]:
        return GitHubConnection

    @property
    def tool_scope_type(self) -> type[GitHubRepo]:
        return GitHubRepo

    @property
    def streams(self) -> list[type[Stream]]:
        return [WorkflowRuns, Jobs, PullRequests, PullRequestCommits]

    def test_connection(self, connection: GitHubConnection) -> msg.TestConnectionResult:
        login = GitHubAPI(connection).user().get("login", "?")
        return msg.TestConnectionResult(success=True, message=f"authenticated as {login}")

    def domain_scopes(self, tool_scope: ToolScope) -> Iterable[DomainScope]:
        """The repository is both a CI/CD scope and the code domain's repo."""
        scope_id = f"github:GithubRepo:{tool_scope.connection_id}:{tool_scope.id}"
        name = tool_scope.name or tool_scope.id
        url = getattr(tool_scope, "url", None)
        yield devops.CICDScope(id=scope_id, name=name, url=url)
        yield code.Repo(id=scope_id, name=name, url=url)

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
