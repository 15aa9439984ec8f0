"""Code domain models: repositories, commits, pull requests and the commits of each.

Column names and values are DevLake's. A CI/CD run joins the pull request that
triggered it through its commit: ``cicd_pipeline_commits.commit_sha`` equals
``pull_requests.head_commit_sha`` (or ``pull_request_commits.commit_sha``).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from waldo.collect.model import DomainModel, DomainScope

__all__ = ["CLOSED", "MERGED", "OPEN", "Commit", "PullRequest", "PullRequestCommit", "Repo"]

# pull request status
OPEN = "OPEN"
CLOSED = "CLOSED"
MERGED = "MERGED"


class Repo(DomainScope):
    """A repository (DevLake's ``repos``), the code domain's scope."""

    __tablename__: ClassVar[str] = "repos"

    url: str | None = None
    description: str | None = None
    owner_id: str | None = None
    language: str | None = None
    forked_from: str | None = None
    created_date: datetime | None = None
    updated_date: datetime | None = None
    deleted: bool | None = None


class Commit(DomainModel):
    """A commit, by its SHA."""

    __tablename__: ClassVar[str] = "commits"

    sha: str
    additions: int | None = None
    deletions: int | None = None
    dev_eq: int | None = None
    message: str | None = None
    author_name: str | None = None
    author_email: str | None = None
    authored_date: datetime | None = None
    author_id: str | None = None
    committer_name: str | None = None
    committer_email: str | None = None
    committed_date: datetime | None = None
    committer_id: str | None = None


class PullRequest(DomainModel):
    """A pull (merge) request; ``status`` is OPEN, CLOSED or MERGED."""

    __tablename__: ClassVar[str] = "pull_requests"

    id: str
    base_repo_id: str | None = None
    head_repo_id: str | None = None
    status: str | None = None
    original_status: str | None = None
    title: str | None = None
    description: str | None = None
    url: str | None = None
    author_name: str | None = None
    author_id: str | None = None
    pull_request_key: int | None = None
    created_date: datetime | None = None
    merged_date: datetime | None = None
    closed_date: datetime | None = None
    type: str | None = None
    merge_commit_sha: str | None = None
    head_ref: str | None = None
    base_ref: str | None = None
    head_commit_sha: str | None = None
    base_commit_sha: str | None = None
    is_draft: bool | None = None


class PullRequestCommit(DomainModel):
    """A commit of a pull request."""

    __tablename__: ClassVar[str] = "pull_request_commits"

    commit_sha: str
    pull_request_id: str
    commit_author_name: str | None = None
    commit_author_email: str | None = None
    commit_authored_date: datetime | None = None
