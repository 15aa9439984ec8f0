"""Shared fixtures and the suite's own rules.

Fixtures: PostgreSQL databases and the environment for Kedro subprocesses.

Rules, enforced so that markers and skips tell the truth:

* a test that uses PostgreSQL carries the ``postgres`` marker: it is added to every
  test using the PostgreSQL fixtures, and any other use of the server (a throwaway
  cluster) fails a test that lacks it;
* a test that starts ``kedro`` (or ``waldo run``/``waldo demo``) in a subprocess is
  marked ``slow``, or it fails, so ``-m "not slow"`` really skips every such run;
* with ``WALDO_TEST_NO_SKIPS=1`` (set by ``.ci/run``) a skipped test fails the session:
  CI runs every test, and a missing service or package must not pass silently.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import marks
from tests.helpers.postgres import fresh_database, server_url

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")
os.environ.pop("WALDO_DB_URL", None)  # tests choose their store explicitly

NO_SKIPS_ENV = "WALDO_TEST_NO_SKIPS"
_POSTGRES_FIXTURES = {"pg_server", "pg_url"}
_POSTGRES_PARAMS = {"postgres", "postgresql"}


@pytest.fixture(scope="session")
def _pg_server_once() -> str | None:
    return server_url()


@pytest.fixture
def pg_server(_pg_server_once: str | None) -> str:
    """The PostgreSQL server's URL (the test is skipped when none answers)."""
    marks.require("postgres", "uses the PostgreSQL server")
    if _pg_server_once is None:
        pytest.skip("no PostgreSQL answers; set WALDO_TEST_PG_URL (see .ci/run)")
    return _pg_server_once


@pytest.fixture(scope="module")
def pg_url(_pg_server_once: str | None) -> Iterator[str]:
    """A fresh, empty database for one test module."""
    marks.require("postgres", "uses the PostgreSQL server")
    if _pg_server_once is None:
        pytest.skip("no PostgreSQL answers; set WALDO_TEST_PG_URL (see .ci/run)")
    with fresh_database(_pg_server_once) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _POSTGRES_FIXTURES & set(getattr(item, "fixturenames", ())) or _postgres_param(item):
            item.add_marker(pytest.mark.postgres)


def _postgres_param(item: pytest.Item) -> bool:
    """A test parametrized with a ``postgresql`` backend (its own fixture or parameter)."""
    callspec = getattr(item, "callspec", None)
    values = callspec.params.values() if callspec is not None else ()
    return any(isinstance(value, str) and value in _POSTGRES_PARAMS for value in values)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    marks.current_item = item
    try:
        yield
    finally:
        marks.current_item = None


def _kedro_subprocess_guard(event: str, args: tuple[Any, ...]) -> None:
    if event == "subprocess.Popen" and marks.current_item is not None:
        command = args[1]
        if marks.starts_kedro(command):
            marks.require("slow", f"runs {marks.command_text(command)!r} in a subprocess")


sys.addaudithook(_kedro_subprocess_guard)

_skipped: list[tuple[str, str]] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else ""
        _skipped.append((report.nodeid, reason))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if _skipped and os.environ.get(NO_SKIPS_ENV):
        terminalreporter.section("skipped, but this run must run everything", red=True)
        for nodeid, reason in _skipped:
            terminalreporter.line(f"{nodeid}: {reason}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _skipped and os.environ.get(NO_SKIPS_ENV) and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
