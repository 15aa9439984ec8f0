"""The seed's example plugin (examples/myplugin), imports pointed at waldo.collect, runs
as the guide says: ``main.py --help``, ``main.py $CTX users``, one step at a time, and
through ``waldo collect module:Class``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.collect._helpers import ROOT, context, query
from waldo.collect.testing import JsonServer

EXAMPLE = ROOT / "examples" / "myplugin"


def main_py(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "myplugin/main.py", *args],
        cwd=EXAMPLE,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(EXAMPLE)},
    )


def serve_users(server: JsonServer) -> None:
    server.require_header("token", "t0k")
    server.route(
        "/users",
        [
            {"id": "1", "name": "Ada", "email": "ada@x.org"},
            {"id": "2", "name": "Bob", "email": "b@x"},
        ],
    )
    server.route(
        "/users/1/comments",
        {"results": [{"id": "c1", "user_id": "1", "body": "hi"}], "nextPage": "2"},
    )
    server.route(
        "/users/1/comments?page=2",
        {"results": [{"id": "c2", "user_id": "1", "body": "again"}], "nextPage": None},
    )
    server.route("/users/2/comments", {"results": [], "nextPage": None})


def test_help_lists_the_streams() -> None:
    shown = main_py("--help")
    assert shown.returncode == 0, shown.stderr
    for word in ("collect", "extract", "convert", "users", "user_comments"):
        assert word in shown.stdout


def test_context_and_stream_run_the_stream(json_server: JsonServer, tmp_path: Path) -> None:
    serve_users(json_server)
    db = f"sqlite:///{tmp_path}/lake.db"
    ctx = context(db, connection={"url": json_server.url, "token": "t0k"})
    ran = main_py(ctx, "users")
    assert ran.returncode == 0, ran.stderr
    assert "convert users: 2 records (users: 2)" in ran.stdout
    assert query(db, "SELECT id, name, email FROM users ORDER BY id") == [
        ("1", "Ada", "ada@x.org"),
        ("2", "Bob", "b@x"),
    ]
    # The substream, one step at a time: comments of each user, across pages.
    for step in ("collect", "extract", "convert"):
        done = main_py(step, ctx, "user_comments")
        assert done.returncode == 0, done.stderr
    assert query(db, "SELECT id, user_id, body FROM _tool_myplugin_usercomment ORDER BY id") == [
        ("c1", "1", "hi"),
        ("c2", "1", "again"),
    ]


def test_in_memory_database_as_in_the_guide(json_server: JsonServer) -> None:
    serve_users(json_server)
    ctx = context(
        "sqlite+pysqlite:///:memory:", connection={"url": json_server.url, "token": "t0k"}
    )
    ran = main_py(ctx, "users")
    assert ran.returncode == 0, ran.stderr
    assert "collect users: 2 records" in ran.stdout


def test_waldo_collect_runs_the_plugin_by_module_path(
    json_server: JsonServer, tmp_path: Path
) -> None:
    serve_users(json_server)
    db = f"sqlite:///{tmp_path}/lake.db"
    ctx = context(db, connection={"url": json_server.url, "token": "t0k"})
    ran = subprocess.run(
        [sys.executable, "-m", "waldo.cli", "collect", "myplugin.main:MyPlugin", "run", ctx],
        cwd=EXAMPLE,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(EXAMPLE)},
    )
    assert ran.returncode == 0, ran.stderr
    assert "extract user_comments: 2 records" in ran.stdout
    assert query(db, "SELECT count(*) FROM users") == [(2,)]
