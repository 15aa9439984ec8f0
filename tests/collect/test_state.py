"""Incremental state: committed with the raw rows it covers; a killed collection resumes
with no gap and no duplicate; a full collection replaces the previous one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading

import pytest

from tests.collect._helpers import ROOT, context, count, query, waldo
from tests.helpers.postgres import wait_for
from waldo.collect.testing import JsonServer

PLUGIN = "tests.collect.numbers_plugin:NumbersPlugin"
TOTAL = 300
HOLD_FROM = 120  # the server holds back the numbers from here until the kill


def numbers_in_raw(url: str) -> list[int]:
    rows = query(url, "SELECT data FROM {s}_raw_numbers_numbers ORDER BY id")
    return [json.loads(r[0])["n"] for r in rows]


def test_killed_collection_resumes_without_gap_or_duplicate(
    json_server: JsonServer, store_url: str
) -> None:
    from tests.collect.numbers_plugin import numbers_handler

    release = threading.Event()  # the server holds the pages from HOLD_FROM on until set
    json_server.route(
        "/numbers", handler=numbers_handler(TOTAL, hold_from=HOLD_FROM, release=release)
    )
    ctx = context(store_url, connection={"url": json_server.url}, options={"batch_size": 7})
    child = subprocess.Popen(
        [sys.executable, "-m", "waldo.cli", "collect", PLUGIN, "collect", ctx, "numbers"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=os.environ.copy(),
    )
    try:
        stalled = wait_for(
            lambda: count(store_url, "_raw_numbers_numbers") >= HOLD_FROM // 2, timeout=120
        )
        assert stalled and child.poll() is None, child.communicate()
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
        release.set()
    assert child.returncode == -signal.SIGKILL
    collected = numbers_in_raw(store_url)
    assert HOLD_FROM // 2 <= len(collected) <= HOLD_FROM, "the kill did not land mid-stream"
    # What was committed is a prefix, and the state points at its last number.
    assert collected == list(range(len(collected)))
    state = query(store_url, "SELECT state FROM {s}collector_state WHERE stream = 'numbers'")
    saved = state[0][0] if isinstance(state[0][0], dict) else json.loads(state[0][0])
    assert saved == {"after": collected[-1]}

    resumed = waldo("collect", PLUGIN, "collect", ctx, "numbers")
    assert resumed.returncode == 0, resumed.stderr
    assert numbers_in_raw(store_url) == list(range(TOTAL))  # no gap, no duplicate

    again = waldo("collect", PLUGIN, "run", ctx)  # nothing new: nothing added
    assert again.returncode == 0, again.stderr
    assert "collect numbers: 0 records" in again.stdout
    assert numbers_in_raw(store_url) == list(range(TOTAL))
    assert count(store_url, "_tool_numbers_numbers") == TOTAL
    assert count(store_url, "cicd_pipelines") == TOTAL


def test_full_collection_replaces_what_the_last_one_wrote(
    json_server: JsonServer, tmp_path: pytest.TempPathFactory
) -> None:
    from tests.collect.numbers_plugin import numbers_handler

    url = f"sqlite:///{tmp_path}/w.db"
    json_server.route("/numbers", handler=numbers_handler(25))
    ctx = context(url, connection={"url": json_server.url})
    assert waldo("collect", PLUGIN, "run", ctx).returncode == 0
    assert count(url, "cicd_pipelines") == 25

    json_server.route("/numbers", handler=numbers_handler(12))  # the tool now has fewer
    incremental = waldo("collect", PLUGIN, "run", ctx)
    assert "collect numbers: 0 records" in incremental.stdout
    assert count(url, "cicd_pipelines") == 25  # incremental: nothing is taken away

    full = waldo("collect", "run", PLUGIN, ctx, "--full")  # the top-level `run` form
    assert full.returncode == 0, full.stderr
    assert "collect numbers: 12 records" in full.stdout
    assert numbers_in_raw(url) == list(range(12))
    assert count(url, "_tool_numbers_numbers") == 12
    names = query(url, "SELECT name FROM cicd_pipelines ORDER BY duration_sec")
    assert [n for (n,) in names] == [f"n{i}" for i in range(12)]
