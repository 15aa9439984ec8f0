"""DoltTableDataset on a doltlite file: save modes, key errors, values, branches, threads."""

from __future__ import annotations

import importlib.util
import sqlite3
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kedro.io import DatasetError

from waldo.kedro._dolt_client import BRANCH_ENV, call
from waldo.kedro.dolt import DoltTableDataset

# find_spec, not importorskip: importing doltlite here (after sqlite3) would re-exec pytest
if importlib.util.find_spec("doltlite") is None:
    pytest.skip("needs waldo[dolt] (doltlite)", allow_module_level=True)


def dataset(database: Path, mode: str = "replace", table: str = "t") -> DoltTableDataset:
    return DoltTableDataset(
        table_name=table,
        primary_key="id",
        database=str(database),
        save_args={"if_exists": mode},
    )


def by_id(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("id", ignore_index=True)


def test_replace_append_and_upsert(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    dataset(db).save(pd.DataFrame({"id": [1, 2, 3], "v": ["a", "b", "c"]}))
    dataset(db).save(pd.DataFrame({"id": [2, 4], "v": ["B", "d"]}))
    assert by_id(dataset(db).load()).to_dict("list") == {"id": [2, 4], "v": ["B", "d"]}

    dataset(db, "append").save(pd.DataFrame({"id": [5], "v": ["e"]}))
    assert by_id(dataset(db).load()).to_dict("list") == {"id": [2, 4, 5], "v": ["B", "d", "e"]}

    dataset(db, "upsert").save(pd.DataFrame({"id": [4, 6], "v": ["D", "f"]}))
    assert by_id(dataset(db).load()).to_dict("list") == {
        "id": [2, 4, 5, 6],
        "v": ["B", "D", "e", "f"],
    }


def test_appending_an_existing_key_fails_and_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    dataset(db).save(pd.DataFrame({"id": [1, 2], "v": [1.0, 2.0]}))
    with pytest.raises(DatasetError, match="UNIQUE constraint failed"):
        dataset(db, "append").save(pd.DataFrame({"id": [3, 2], "v": [3.0, 9.0]}))
    assert by_id(dataset(db).load()).to_dict("list") == {"id": [1, 2], "v": [1.0, 2.0]}


def test_duplicate_keys_in_the_frame_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="duplicate primary keys"):
        dataset(tmp_path / "w.db").save(pd.DataFrame({"id": [1, 1], "v": [1, 2]}))


def test_a_new_column_replaces_the_table_schema(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    dataset(db).save(pd.DataFrame({"id": [1], "v": [1]}))
    dataset(db).save(pd.DataFrame({"id": [1], "v": [1], "w": ["x"]}))
    assert dataset(db).load().to_dict("records") == [{"id": 1, "v": 1, "w": "x"}]


def test_values_come_back_as_pandas_read_sql_gives_them(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "id": np.arange(4, dtype=np.int64),
            "price": [1.5, np.nan, 3.25, -0.0],
            "name": ["a", None, "c", "d é"],
            "count": pd.array([1, None, 3, 4], dtype="Int64"),
            "flag": [True, False, True, False],
            "day": pd.to_datetime(
                ["2024-01-02 03:04:05", None, "2024-12-31 00:00:00", "2025-06-01 00:00:00"]
            ),
        }
    )
    data = dataset(tmp_path / "w.db")
    data.save(frame)
    loaded = by_id(data.load())
    expected = pd.DataFrame(
        {
            "id": np.arange(4, dtype=np.int64),
            "price": [1.5, np.nan, 3.25, -0.0],
            "name": ["a", None, "c", "d é"],
            "count": [1.0, np.nan, 3.0, 4.0],  # an INTEGER column with NULL: float, as read_sql
            "flag": [1, 0, 1, 0],
            "day": ["2024-01-02 03:04:05", None, "2024-12-31 00:00:00", "2025-06-01 00:00:00"],
        }
    )
    pd.testing.assert_frame_equal(loaded, expected)

    plain = sqlite3.connect(tmp_path / "plain.db")  # the same rows, read by pandas itself
    plain.execute(
        "CREATE TABLE t (id INTEGER, price REAL, name TEXT, count INTEGER, flag INTEGER, day TEXT)"
    )
    rows = expected.astype(object).where(expected.notna(), None).itertuples(index=False)
    plain.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", rows)
    pd.testing.assert_frame_equal(loaded, pd.read_sql("SELECT * FROM t ORDER BY id", plain))
    plain.close()


def test_an_empty_frame_saves_an_empty_table(tmp_path: Path) -> None:
    data = dataset(tmp_path / "w.db")
    data.save(pd.DataFrame({"id": pd.Series([], dtype="int64"), "v": pd.Series([], dtype=float)}))
    assert data.exists()
    loaded = data.load()
    assert list(loaded.columns) == ["id", "v"] and len(loaded) == 0


def test_exists_and_a_missing_table(tmp_path: Path) -> None:
    data = dataset(tmp_path / "w.db", table="never_saved")
    assert not data.exists()
    with pytest.raises(DatasetError, match="no table 'never_saved'"):
        data.load()


def test_a_save_on_a_branch_leaves_main_and_the_current_branch_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "w.db"
    dataset(db).save(pd.DataFrame({"id": [1], "v": ["main"]}))
    call("commit", database=str(db), message="first")

    monkeypatch.setenv(BRANCH_ENV, "exp")
    dataset(db).save(pd.DataFrame({"id": [1], "v": ["exp"]}))
    assert dataset(db).load().to_dict("records") == [{"id": 1, "v": "exp"}]

    monkeypatch.delenv(BRANCH_ENV)
    assert dataset(db).load().to_dict("records") == [{"id": 1, "v": "main"}]
    assert {b["name"] for b in call("branches", database=str(db))} == {"main", "exp"}
    committed = call("commit", database=str(db), message="nothing on main")
    assert committed["commit"] is None and committed["branch"] == "main"


def test_saves_from_many_threads_all_land(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    frames = {
        f"t{n}": pd.DataFrame({"id": np.arange(200) + n, "v": np.full(200, float(n))})
        for n in range(8)
    }
    errors: list[BaseException] = []

    def save_and_check(table: str) -> None:
        try:
            data = dataset(db, table=table)
            data.save(frames[table])
            pd.testing.assert_frame_equal(by_id(data.load()), frames[table])
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=save_and_check, args=(t,)) for t in frames]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    for table, frame in frames.items():
        pd.testing.assert_frame_equal(by_id(dataset(db, table=table).load()), frame)
