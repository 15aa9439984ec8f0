"""The doltlite import-order trap gives a message saying what to do, not a crash."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from kedro.io import DatasetError

from waldo.kedro.dolt import DoltTableDataset

# find_spec, not importorskip: importing doltlite here (after sqlite3) would re-exec pytest
if importlib.util.find_spec("doltlite") is None:
    pytest.skip("needs waldo[dolt] (doltlite)", allow_module_level=True)

SCRIPT = """
import os, sqlite3
os.environ["WALDO_DOLT"] = "inprocess"
from waldo.kedro._dolt_client import DoltImportOrderError, call
try:
    call("branches", database={db!r})
except DoltImportOrderError as exc:
    print("MESSAGE:", exc)
"""


def test_in_process_after_sqlite3_says_what_to_do(tmp_path: Path) -> None:
    script = tmp_path / "late.py"
    script.write_text(SCRIPT.format(db=str(tmp_path / "w.db")))
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "MESSAGE: doltlite must be loaded before Python's sqlite3" in result.stdout
    assert "unset WALDO_DOLT" in result.stdout and "LD_PRELOAD" in result.stdout


def test_default_mode_works_although_sqlite3_is_imported(tmp_path: Path) -> None:
    import sqlite3  # noqa: F401  # the trap's precondition, as in any Waldo process

    data = DoltTableDataset(table_name="t", primary_key="id", database=str(tmp_path / "w.db"))
    frame = pd.DataFrame({"id": [1, 2], "v": ["a", "b"]})
    data.save(frame)
    pd.testing.assert_frame_equal(data.load(), frame)


def test_in_process_mode_when_doltlite_came_first(tmp_path: Path) -> None:
    script = tmp_path / "early.py"
    db = str(tmp_path / "e.db")
    script.write_text(
        "import doltlite, os\n"
        "os.environ['WALDO_DOLT'] = 'inprocess'\n"
        "import pandas as pd\n"
        "from waldo.kedro.dolt import DoltTableDataset\n"
        f"d = DoltTableDataset(table_name='t', primary_key='id', database={db!r})\n"
        "d.save(pd.DataFrame({'id': [1], 'v': [2.5]}))\n"
        "print(d.load().to_dict('records'))\n"
    )
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "[{'id': 1, 'v': 2.5}]" in result.stdout


def test_a_frame_without_its_primary_key_is_a_dataset_error(tmp_path: Path) -> None:
    data = DoltTableDataset(
        table_name="t", primary_key=["id", "day"], database=str(tmp_path / "w.db")
    )
    with pytest.raises(DatasetError, match="lacks primary-key column\\(s\\) day"):
        data.save(pd.DataFrame({"id": [1], "v": [1.0]}))


def test_waldo_kedro_never_imports_doltlite() -> None:
    code = (
        "import sys, waldo.kedro as k\n"
        "assert k.DoltTableDataset and issubclass(k.DoltImportOrderError, k.DoltError)\n"
        "print('doltlite' in sys.modules, 'pandas' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]
