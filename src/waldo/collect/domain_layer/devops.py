"""CI/CD domain models: scopes, pipelines (runs), tasks (steps) and their commits.

Column names and values are DevLake's, so one query over ``cicd_pipelines`` lists the
runs of every tool: GitHub Actions workflow runs, dbt invocations, Kedro runs recorded
by Waldo. ``result`` says how a finished run ended and ``status`` whether it finished;
``original_result`` / ``original_status`` keep the tool's own words.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from waldo.collect.model import DomainModel, DomainScope

__all__ = [
    "ABORT",
    "DONE",
    "FAILURE",
    "IN_PROGRESS",
    "MANUAL",
    "OTHER",
    "SUCCESS",
    "CICDPipeline",
    "CICDPipelineCommit",
    "CICDScope",
    "CICDTask",
    "CiCDPipelineCommit",
    "CicdScope",
]

# result
SUCCESS = "SUCCESS"
FAILURE = "FAILURE"
ABORT = "ABORT"
MANUAL = "MANUAL"
# status
IN_PROGRESS = "IN_PROGRESS"
DONE = "DONE"
OTHER = "OTHER"

# task / pipeline type and environment, as DevLake names them
TEST = "TEST"
LINT = "LINT"
BUILD = "BUILD"
DEPLOYMENT = "DEPLOYMENT"
PRODUCTION = "PRODUCTION"
STAGING = "STAGING"
TESTING = "TESTING"


class CICDScope(DomainScope):
    """A CI/CD scope: a repository's workflows, a dbt project, a Kedro project."""

    __tablename__: ClassVar[str] = "cicd_scopes"

    description: str | None = None
    url: str | None = None
    created_date: datetime | None = None
    updated_date: datetime | None = None


class _Run(DomainModel):
    id: str
    name: str | None = None
    result: str | None = None
    status: str | None = None
    original_result: str | None = None
    original_status: str | None = None
    type: str | None = None
    environment: str | None = None
    duration_sec: float | None = None
    queued_duration_sec: float | None = None
    created_date: datetime | None = None
    queued_date: datetime | None = None
    started_date: datetime | None = None
    finished_date: datetime | None = None
    cicd_scope_id: str | None = None


class CICDPipeline(_Run):
    """One run of a pipeline (a workflow run, a dbt invocation, a Kedro run)."""

    __tablename__: ClassVar[str] = "cicd_pipelines"

    display_title: str | None = None
    url: str | None = None


class CICDTask(_Run):
    """One step of a pipeline run (a job, a dbt node, a Kedro node)."""

    __tablename__: ClassVar[str] = "cicd_tasks"

    pipeline_id: str | None = None


class CICDPipelineCommit(DomainModel):
    """The commit a pipeline run built."""

    __tablename__: ClassVar[str] = "cicd_pipeline_commits"

    pipeline_id: str
    commit_sha: str
    commit_msg: str | None = None
    branch: str | None = None
    repo_id: str | None = None
    repo_url: str | None = None
    display_title: str | None = None
    url: str | None = None


#: DevLake's own spellings of the same classes.
CicdScope = CICDScope
CiCDPipelineCommit = CICDPipelineCommit
