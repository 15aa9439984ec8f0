"""``waldo collect``: help that lists plugins and streams, one-line errors, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.collect._helpers import context, waldo
from waldo.cli import app
from waldo.collect.testing import JsonServer

TOKEN = "ghp_n0t-a-real-t0ken"


def test_help_lists_plugins_and_a_plugins_streams() -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["collect", "--help"])
    assert listed.exit_code == 0, listed.output
    for name in ("dbt", "github", "waldo", "run"):
        assert f"  {name} " in listed.output
    streams = runner.invoke(app, ["collect", "github", "--help"])
    assert streams.exit_code == 0
    assert "workflow_runs" in streams.output and "jobs" in streams.output
    info = runner.invoke(app, ["collect", "dbt", "plugin-info"])
    assert [s["name"] for s in json.loads(info.output)["streams"]] == [
        "invocations",
        "node_results",
    ]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["github", "collect", "{not json", "jobs"], 2, "The context is not valid JSON"),
        (["github", "collect", '{"db_url": "sqlite://"}', "jobs"], 2, "has no connection"),
        (
            ["github", "collect", context("sqlite://", connection={"token": "x"}), "nope"],
            2,
            "Plugin github has no stream 'nope' (streams: workflow_runs, jobs, pull_requests, "
            "pull_request_commits)",
        ),
        (["jenkins", "run", "{}"], 2, "Unknown collector 'jenkins'"),
        (
            [
                "github",
                "run",
                context(
                    "sqlite://",
                    connection={"token": TOKEN, "url": "http://127.0.0.1:9"},
                    scope={"id": "octo/hello"},
                ),
            ],
            1,
            "GET http://127.0.0.1:9/repos/octo/hello/actions/runs?per_page=100 could not "
            "connect (4 tries)",
        ),
    ],
    ids=["bad-json", "no-connection", "unknown-stream", "unknown-plugin", "unreachable"],
)
def test_bad_input_is_one_line_without_traceback(args: list[str], code: int, message: str) -> None:
    done = waldo("collect", "--log-level", "WARNING", *args)  # no retry lines (INFO)
    assert done.returncode == code, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("error: ") and message in done.stderr
    assert "Traceback" not in done.stderr
    assert TOKEN not in done.stdout + done.stderr


def test_bad_token_says_so_and_never_shows_it(json_server: JsonServer, tmp_path: Path) -> None:
    json_server.require_header("authorization", "Bearer the-real-one")
    ctx = context(
        f"sqlite:///{tmp_path}/w.db",
        connection={"token": TOKEN, "url": json_server.url},
        scope={"id": "octo/hello"},
    )
    done = waldo("collect", "github", "test-connection", ctx)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"error: GET {json_server.url}/user was refused (HTTP 401): check the connection's "
        "token or credentials."
    )
    assert TOKEN not in done.stdout + done.stderr


def test_connection_and_remote_scopes_of_github(json_server: JsonServer, tmp_path: Path) -> None:
    json_server.require_header("authorization", f"Bearer {TOKEN}")
    json_server.route("/user", {"login": "octocat"})
    json_server.route("/user/orgs", [{"login": "octo-org"}])
    json_server.route(
        "/users/octo-org/repos",
        [{"full_name": "octo-org/hello", "name": "hello", "html_url": "https://x/hello"}],
    )
    ctx = context(f"sqlite:///{tmp_path}/w.db", connection={"token": TOKEN, "url": json_server.url})
    runner = CliRunner()
    works = runner.invoke(app, ["collect", "github", "test-connection", ctx])
    assert works.exit_code == 0 and "works" in works.output
    groups = runner.invoke(app, ["collect", "github", "remote-scope-groups", ctx])
    assert json.loads(groups.output) == [
        {"id": "octocat", "name": "octocat"},
        {"id": "octo-org", "name": "octo-org"},
    ]
    scopes = runner.invoke(app, ["collect", "github", "remote-scopes", ctx, "octo-org"])
    assert [(s["id"], s["url"]) for s in json.loads(scopes.output)] == [
        ("octo-org/hello", "https://x/hello")
    ]
