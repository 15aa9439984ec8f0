"""The rules behind what the pages say, without a browser: drops, slower nodes, library
frames, commit links, the status page's data."""

from __future__ import annotations

import subprocess
import traceback
from datetime import datetime, timezone
from pathlib import Path

import pytest

from waldo.cli._web import kedro_status_source
from waldo.journal import DatasetPoint
from waldo.web import NO_PROJECT, StatusReport
from waldo.web._compare import is_slower
from waldo.web._git import commit_link, commit_template, web_base
from waldo.web._payload import dataset_series, is_drop, usual_rows
from waldo.web._status import status_payload
from waldo.web._traceback import first_line, frames, is_library


def point(run: int, rows: int | None) -> DatasetPoint:
    when = datetime(2026, 1, 1, 12, run, tzinfo=timezone.utc)
    return DatasetPoint("orders", f"run-{run}", when, rows, 0)


def test_a_drop_is_less_than_half_the_median_of_the_saves_before() -> None:
    assert usual_rows([100]) is None  # one save is not "usual" yet
    assert usual_rows([100, 120, None, 90]) == 100
    assert is_drop(49, 100) and not is_drop(50, 100) and not is_drop(None, 100)
    series = dataset_series([point(i, r) for i, r in enumerate([100, 120, 40, 110, 30, 100])])
    assert [p.get("drop", False) for p in series] == [False, False, True, False, True, False]
    assert series[4]["usual"] == 105  # the median of 100, 120, 40 and 110
    assert "usual" not in series[0] and series[5]["t"] == point(5, 0).recorded_at.timestamp()


def test_slower_means_over_20_percent_and_50_ms() -> None:
    assert is_slower(1.0, 1.3)
    assert not is_slower(1.0, 1.2)  # 20% exactly
    assert not is_slower(0.002, 0.005)  # +150%, but 3 ms
    assert not is_slower(None, 2.0) and not is_slower(0.0, 2.0)


def _fail_in_json() -> str:
    import json

    try:
        json.loads("{oops")
    except ValueError:
        return traceback.format_exc()
    raise AssertionError("json.loads accepted '{oops'")


def test_frames_tell_the_users_code_from_libraries() -> None:
    found = frames(_fail_in_json())
    assert [f.user for f in found] == [True] + [False] * (len(found) - 1)
    assert found[0].func == "_fail_in_json" and found[0].code == 'json.loads("{oops")'
    assert found[0].file == __file__
    assert all("json" in f.file for f in found[1:])
    assert is_library("/venv/lib/python3.11/site-packages/kedro/runner/runner.py")
    assert is_library("/src/kedro/kedro/runner/sequential_runner.py")  # an editable Kedro
    assert is_library("pandas/_libs/lib.pyx") and is_library("<frozen runpy>")
    assert not is_library("/home/ana/shop/src/shop/nodes.py")
    assert first_line("\n  boom: x\nmore") == "boom: x"


@pytest.mark.parametrize(
    ("remote", "base"),
    [
        ("git@github.com:acme/shop.git", "https://github.com/acme/shop"),
        ("https://github.com/acme/shop", "https://github.com/acme/shop"),
        ("ssh://git@gitlab.example.com:2222/data/shop.git", "https://gitlab.example.com/data/shop"),
        ("https://user:pw@bitbucket.org/acme/shop.git", "https://bitbucket.org/acme/shop"),
        ("/srv/git/shop.git", None),
        ("file:///srv/git/shop", None),
        ("shop", None),
    ],
)
def test_web_base_of_a_remote(remote: str, base: str | None) -> None:
    assert web_base(remote) == base


def test_commit_pages_per_host(tmp_path: Path) -> None:
    assert commit_template("https://gitlab.com/a/b") == "https://gitlab.com/a/b/-/commit/{sha}"
    assert commit_template("https://bitbucket.org/a/b") == "https://bitbucket.org/a/b/commits/{sha}"
    assert commit_template("https://codeberg.org/a/b") == "https://codeberg.org/a/b/commit/{sha}"
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    assert commit_link(str(repo)) is None  # no remote
    subprocess.run(
        ["git", "-C", str(repo), "remote", "add", "origin", "git@github.com:acme/x.git"],
        check=True,
    )
    assert commit_link(str(repo / "")) == "https://github.com/acme/x/commit/{sha}"
    given = commit_link(str(repo), "https://gitlab.com/acme/x")
    assert given == "https://gitlab.com/acme/x/-/commit/{sha}"
    assert commit_link(str(tmp_path / "gone")) is None


def test_status_payload_without_and_with_a_project() -> None:
    unavailable = {"page": "status", "available": False, "message": NO_PROJECT}
    assert status_payload(None, None) == unavailable

    def source(pipeline: str | None) -> StatusReport:
        return StatusReport(
            pipeline=pipeline or "__default__",
            pipelines=["__default__", "etl"],
            nodes=[
                {"node": "a", "stale": True, "reasons": ["code changed"], "last_run": "r1"},
                {"node": "b", "stale": False, "reasons": [], "last_run": "r1"},
            ],
            graph=[{"name": "a", "inputs": [], "outputs": ["x"]}, {"name": "b", "inputs": ["x"]}],
        )

    data = status_payload(source, "etl")
    assert data["pipeline"] == "etl" and data["to_run"] == 1
    assert [(n["name"], n["stale"], n["reasons"]) for n in data["graph"]] == [
        ("a", True, ["code changed"]),
        ("b", False, []),
    ]


def test_no_status_source_outside_a_kedro_project(tmp_path: Path) -> None:
    assert kedro_status_source(tmp_path, None) is None
