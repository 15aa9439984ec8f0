"""``waldo serve`` and ``waldo report`` as a user types them (subprocesses)."""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.helpers.cli import run_waldo as waldo
from tests.helpers.journal import record_run, recorder_for
from tests.kedro._e2e import subprocess_env
from tests.web._page import page_data


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("cli")
    url = f"sqlite:///{root / 'waldo.db'}"
    recorder = recorder_for(url, root)
    record_run(recorder, "run-1")
    return url


def test_report_writes_one_file(db: str, tmp_path: Path) -> None:
    out = tmp_path / "sub" / "run.html"
    result = waldo("--db", db, "report", "latest", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert f"Wrote {out}" in result.stdout
    assert out.read_text().startswith("<!doctype html>")
    assert page_data(out.read_text())["commit_url"] is None  # no project, no remote


def test_report_links_commits_to_the_given_repository(db: str, tmp_path: Path) -> None:
    out = tmp_path / "run.html"
    url = "https://gitlab.com/acme/shop"
    result = waldo("--db", db, "report", "run-1", "-o", str(out), "--repo-url", url)
    assert result.returncode == 0, result.stderr
    assert page_data(out.read_text())["commit_url"] == f"{url}/-/commit/{{sha}}"


def test_unknown_run_is_one_line(db: str, tmp_path: Path) -> None:
    result = waldo("--db", db, "report", "nope", "-o", str(tmp_path / "x.html"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: No run 'nope' in the journal; `waldo runs` lists the runs."
    ]
    assert not (tmp_path / "x.html").exists()


def test_serve_off_loopback_prints_a_token_and_requires_it(db: str) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "waldo.cli",
            "--db",
            db,
            "serve",
            "--host",
            "0.0.0.0",
            "--port",
            "0",
        ],
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        found = re.search(r"at http://0\.0\.0\.0:(\d+)/\?token=(\S+) ", line)
        assert found, line + (proc.stderr.read() if proc.poll() is not None else "")
        port, token = found.groups()
        base = f"http://127.0.0.1:{port}/runs/run-1"
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(base, timeout=30)
        assert caught.value.code == 401
        with urllib.request.urlopen(f"{base}?token={token}", timeout=30) as response:
            assert response.status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)
