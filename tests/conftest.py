"""Shared fixtures: PostgreSQL databases and the environment for Kedro subprocesses."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.helpers.postgres import fresh_database, server_url

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")
os.environ.pop("WALDO_DB_URL", None)  # tests choose their store explicitly


@pytest.fixture(scope="session")
def pg_server() -> str:
    url = server_url()
    if url is None:
        pytest.skip("no PostgreSQL answers; set WALDO_TEST_PG_URL (see .ci/run)")
    return url


@pytest.fixture(scope="module")
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh, empty database for one test module."""
    with fresh_database(pg_server) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Each test using this runs once on SQLite and once on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('store') / 'waldo.db'}"
        return
    server = request.getfixturevalue("pg_server")
    with fresh_database(server) as url:
        yield url
