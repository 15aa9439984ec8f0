"""Where Dolt work runs: one worker per process, reused, replaced when it dies, stopped at
exit; in process when sqlite3 already runs on doltlite. Each case is a Python script in
a subprocess, which counts its Dolt workers in /proc."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

# find_spec, not importorskip: importing doltlite here (after sqlite3) would re-exec pytest
if importlib.util.find_spec("doltlite") is None:
    pytest.skip("needs waldo[dolt] (doltlite)", allow_module_level=True)
if not Path("/proc/self/stat").exists():
    pytest.skip("counts processes through /proc", allow_module_level=True)

PRELUDE = """
import json, os, sqlite3, sys
import pandas as pd
from waldo.kedro.dolt import DoltTableDataset


def dolt_workers():
    found = []
    for entry in os.listdir("/proc"):
        try:
            stat = open(f"/proc/{entry}/stat").read()
            cmdline = open(f"/proc/{entry}/cmdline", "rb").read()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == os.getpid() and b"_dolt_worker.py" in cmdline:
            found.append(int(entry))
    return found


def table(name):
    return DoltTableDataset(table_name=name, primary_key="id", database=sys.argv[1])


def records(name):
    return table(name).load().sort_values("id").to_dict("records")
"""


def run_script(tmp_path: Path, body: str, env: dict[str, str] | None = None) -> dict[str, object]:
    script = tmp_path / "case.py"
    script.write_text(PRELUDE + body)
    result = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "w.db")],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    reply: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return reply


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"  # exited, waiting for a reaper that is not ours


def test_one_worker_serves_every_operation_and_stops_at_exit(tmp_path: Path) -> None:
    reply = run_script(
        tmp_path,
        """
for n in range(5):
    table("t").save(pd.DataFrame({"id": [1, 2], "v": [n, n + 1]}))
    assert records("t") == [{"id": 1, "v": n}, {"id": 2, "v": n + 1}]
print(json.dumps({"workers": dolt_workers()}))
""",
    )
    workers = reply["workers"]
    assert isinstance(workers, list) and len(workers) == 1
    deadline = time.monotonic() + 60
    while not gone(workers[0]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(workers[0])


def test_a_worker_that_died_is_replaced(tmp_path: Path) -> None:
    reply = run_script(
        tmp_path,
        """
import signal, time
table("t").save(pd.DataFrame({"id": [1], "v": ["before"]}))
(first,) = dolt_workers()
os.kill(first, signal.SIGKILL)
while first in dolt_workers():  # a zombie has no command line: dead enough
    time.sleep(0.01)
table("t").save(pd.DataFrame({"id": [1], "v": ["after"]}))
print(json.dumps({"records": records("t"), "replaced": dolt_workers() != [first]}))
""",
    )
    assert reply == {"records": [{"id": 1, "v": "after"}], "replaced": True}


def test_a_request_that_breaks_the_worker_is_one_error_and_the_next_works(
    tmp_path: Path,
) -> None:
    reply = run_script(
        tmp_path,
        """
from kedro.io import DatasetError


class Mine:  # exists in this script only: the worker cannot unpickle it
    pass


try:
    table("t").save(pd.DataFrame({"id": [1], "v": [Mine()]}))
    error = None
except DatasetError as exc:
    error = str(exc)
table("t").save(pd.DataFrame({"id": [1], "v": ["fine"]}))
print(json.dumps({"error": error, "records": records("t")}))
""",
    )
    error = str(reply["error"])
    assert "DoltTableDataset 't': the Dolt worker failed during save" in error
    assert "Mine" in error
    assert reply["records"] == [{"id": 1, "v": "fine"}]


def test_a_forked_child_gets_its_own_worker(tmp_path: Path) -> None:
    reply = run_script(
        tmp_path,
        """
table("parent").save(pd.DataFrame({"id": [1], "v": ["p1"]}))
pid = os.fork()
if pid == 0:
    try:
        table("child").save(pd.DataFrame({"id": [1], "v": ["c"]}))
        ok = records("child") == [{"id": 1, "v": "c"}]
    except BaseException:
        ok = False
    os._exit(0 if ok else 1)
_, status = os.waitpid(pid, 0)
table("parent").save(pd.DataFrame({"id": [1], "v": ["p2"]}))
print(json.dumps({
    "child_exit": os.waitstatus_to_exitcode(status),
    "parent": records("parent"),
    "child": records("child"),
}))
""",
    )
    assert reply == {
        "child_exit": 0,
        "parent": [{"id": 1, "v": "p2"}],
        "child": [{"id": 1, "v": "c"}],
    }


@pytest.mark.parametrize("mode", ["", "inprocess"])
def test_no_worker_when_sqlite3_already_runs_on_doltlite(tmp_path: Path, mode: str) -> None:
    # the README's recipe; importing doltlite here, after sqlite3, would re-exec pytest
    library = subprocess.run(
        [
            sys.executable,
            "-c",
            "import doltlite, sys; sys.stdout.write(doltlite.libdoltlite_path())",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    reply = run_script(
        tmp_path,
        """
table("t").save(pd.DataFrame({"id": [1, 2], "v": [0.5, 1.5]}))
print(json.dumps({"records": records("t"), "workers": dolt_workers()}))
""",
        env={"LD_PRELOAD": library, "WALDO_DOLT": mode},
    )
    assert reply == {"records": [{"id": 1, "v": 0.5}, {"id": 2, "v": 1.5}], "workers": []}
