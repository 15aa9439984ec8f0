"""The Recorder: the API the integrations call; never breaks a run unless strict."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.helpers.journal import STEP, record_run, recorder_for, settings_for
from waldo._errors import StoreUnavailable
from waldo.journal import History, RecordingError, RunInfo, get_recorder
from waldo.journal._rows import node_run_id
from waldo.store import Spool, Store, schema

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/x"


def rows(store: Store, table: sa.Table) -> list[dict[str, object]]:
    with store.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(table))]


def test_one_recorder_per_store_and_spool(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'j.db'}"
    assert recorder_for(url, tmp_path) is recorder_for(url, tmp_path)
    assert recorder_for(url, tmp_path) is not recorder_for(url, tmp_path / "other")


def test_recorded_run_lands_in_every_table(store_url: str, tmp_path: Path) -> None:
    recorder = recorder_for(store_url, tmp_path)
    catalog_hash = recorder.snapshot("catalogs", {"companies": {"type": "pandas.CSVDataset"}})
    again = recorder.snapshot("catalogs", {"companies": {"type": "pandas.CSVDataset"}})
    pipeline_hash = recorder.snapshot("pipelines", [{"name": "load"}], name="__default__")
    record_run(recorder, "r1", nodes=["load"])
    recorder.update_run("r1", catalog_hash=catalog_hash, pipeline_hash=pipeline_hash)
    assert recorder.flush().error is None

    store = Store(store_url)
    assert catalog_hash == again and len(catalog_hash) == 64
    [catalog] = rows(store, schema.catalogs)
    assert (catalog["hash"], catalog["full_hash"]) == (catalog_hash[:8], catalog_hash)
    [pipeline] = rows(store, schema.pipelines)
    assert (pipeline["name"], pipeline["full_hash"]) == ("__default__", pipeline_hash)
    [run] = rows(store, schema.runs)
    assert (run["status"], run["catalog_hash"], run["pipeline_hash"]) == (
        "success",
        catalog_hash,
        pipeline_hash,
    )
    [node] = rows(store, schema.node_runs)
    assert node["id"] == node_run_id("r1", "load")
    events = rows(store, schema.events)
    assert len(events) == 2 + 6  # the pipeline's two, a node's loads, run and saves
    by_type = {e["event_type"]: e for e in events}
    # a node and a dataset share no target ids; every target id is 8 characters
    assert by_type["before_node_run"]["target_id"] != by_type["after_dataset_saved"]["target_id"]
    assert all(len(str(e["target_id"])) == 8 for e in events)
    assert by_type["after_dataset_saved"]["duration_s"] == pytest.approx(STEP, abs=1e-5)
    store.dispose()


def test_unreachable_store_spools_the_run_after_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = recorder_for(UNREACHABLE, tmp_path)
    with caplog.at_level(logging.WARNING, logger="waldo"):
        assert recorder.check_store() is False
        record_run(recorder, "r-down", nodes=["a", "b", "c"], flush=False)
        first = recorder.flush()
        record_run(recorder, "r-down-2", nodes=["a"])
    assert first.written == 0 and first.spooled > 0
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "127.0.0.1:1" in warnings[0] and "spool" in warnings[0]
    spool = Spool(tmp_path / ".waldo" / "spool")
    # the second run: its start, start time and first event, its node's 3 + 3 events
    # and its row (as it starts and at its end), its last event, its end and end time
    assert spool.count_pending_records() == first.spooled + 3 + 3 + 1 + 3 + 1 + 3


def test_strict_mode_raises_instead_of_spooling_silently(tmp_path: Path) -> None:
    recorder = get_recorder(settings_for(UNREACHABLE, tmp_path, strict=True))
    with pytest.raises(StoreUnavailable):
        recorder.check_store()
    recorder.start_run(RunInfo(run_id="strict"))
    recorder.end_run("strict", "success")
    with pytest.raises(RecordingError, match="could not write 2 journal rows"):
        recorder.flush()


EXITS_MID_RUN = """
import sys
from pathlib import Path

from tests.helpers.journal import recorder_for, start_node
from waldo.journal import RunInfo

recorder = recorder_for(sys.argv[1], Path(sys.argv[2]))
recorder.start_run(RunInfo(run_id="left-open"))
start_node(recorder, "left-open", "n", started=0.0)
sys.exit(0)  # a normal exit with the run still open: the exit handler closes it
"""


def test_exit_with_an_open_run_records_it_interrupted(store_url: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(EXITS_MID_RUN), store_url, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parents[2],
    )
    assert done.returncode == 0, done.stderr
    store = Store(store_url)
    detail = History(store).run_detail("left-open")
    assert detail.summary.status == "interrupted"
    assert detail.error_message == "the process exited before the run ended"
    assert [(n.node_name, n.status) for n in detail.nodes] == [("n", "interrupted")]
    store.dispose()


def test_a_long_run_keeps_its_heartbeat_fresh_through_the_writer(tmp_path: Path) -> None:
    """While a run is active its heartbeat_at moves forward every heartbeat_seconds
    (so other processes do not take it for interrupted), queued by the writer's thread
    like any row."""
    import time

    url = f"sqlite:///{tmp_path / 'journal.db'}"
    reader = Store(url)

    def run_row() -> tuple[str, float]:
        query = sa.select(schema.runs.c.status, schema.runs.c.heartbeat_at)
        with reader.connect() as conn:
            status, beat = conn.execute(query.where(schema.runs.c.run_id == "long")).one()
        return str(status), beat.timestamp()

    recorder = get_recorder(settings_for(url, tmp_path, heartbeat_seconds=0.2))
    recorder.start_run(RunInfo(run_id="long", project="p"))
    recorder.flush()
    _, first = run_row()
    deadline = time.monotonic() + 60
    while run_row()[1] < first + 0.4 and time.monotonic() < deadline:  # two beats
        time.sleep(0.05)
    status, later = run_row()
    assert later >= first + 0.4
    assert status == "running"  # a beat never changes the status
    recorder.end_run("long", "success")
    recorder.flush()
    assert run_row()[0] == "success"
    reader.dispose()
