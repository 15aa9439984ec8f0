"""Recording runs: the domain API the integrations call from their hot paths.

A :class:`Recorder` turns "a run started", "a node finished", "a dataset was loaded"
into journal rows and hands them to the store's background writer (a node's datasets
travel in its trail, :meth:`Recorder.node_trail`, expanded by the writer; or, from the
Kedro hooks, as raw entries that the writer's helper derives trails from,
:meth:`Recorder.node_entries`). Nothing here waits
for the database except :meth:`Recorder.flush` and :meth:`Recorder.check_store`, which
integrations call at run boundaries. Recording problems never raise unless the settings
are strict; they are logged once, clearly.

There is one recorder per store per process (:func:`get_recorder`). While a run is
active the writer's thread queues a refresh of ``runs.heartbeat_at``; a run whose
process died shows up as ``interrupted`` once its lease has expired (see
``History.reconcile``).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from waldo._errors import StoreError, WaldoError
from waldo._version import __version__
from waldo.fingerprint import canonical_json, named_content_json, text_digest
from waldo.journal._checks import CheckResult
from waldo.journal._derive import LocalTrails, entry_batch_row
from waldo.journal._jsonsafe import json_safe
from waldo.journal._model import RunInfo
from waldo.journal._rows import describe_error, json_map, node_run_id
from waldo.journal._rows import target_id as target_id_of
from waldo.journal._secrets import mask_params
from waldo.journal._settings import Settings
from waldo.journal._trail import NodeTrail, expand_trails, trail_record
from waldo.store import (
    BatchWriter,
    FlushResult,
    Record,
    ReplayReport,
    Spool,
    Store,
    WriterProcess,
    store_key,
)

log = logging.getLogger("waldo")

# What the writer's helper process applies to each batch before writing it.
PREPARE_IN_HELPER = "waldo.journal._derive:prepare_in_helper"
# Records per batch once a run is about to end (``ending_soon``): a node's entries go
# as one when it ends. What the final flush waits for is at most one such batch
# (measured on the 1,000-node benchmark: 1.1-1.3 ms on SQLite and about 4 ms on
# PostgreSQL with 8, 1.1-3.3 ms and about 7 ms with 32).
TAIL_BATCH = 8


class RecordingError(WaldoError):
    """Raised in strict mode when the journal could not record a run completely."""


class Recorder:
    """Turns run, node and dataset happenings into journal rows for one store."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(settings.store_url)
        self.spool = Spool(settings.spool_dir, store_key(settings.store_url))
        # Batches go through a helper process once it is started (prepare_store), so
        # the SQL work, and deriving node trails from raw entries, does not compete
        # with the pipeline for the GIL; entries it cannot take are derived here.
        self._local_trails = LocalTrails(self._warn)
        self._writer_process = WriterProcess(
            settings.store_url, self._write_rows, prepare=PREPARE_IN_HELPER
        )
        self.writer = BatchWriter(
            self._write,
            self.spool,
            on_problem=self._warn,
            on_wake=self._writer_woke,
            spool_form=self._local_trails.derived,
            wait_ready=self._writer_process.wait_ready,
            flush_wait=self._writer_process.flush_wait,
        )
        self._wake_callbacks: set[Callable[[], None]] = set()
        self._active: dict[str, float] = {}  # run id -> start time, in this process
        self._next_beat = 0.0
        self._warned: set[str] = set()
        # This process's id, for the rows it records (os.getpid() is a system call, on
        # the hot path); after_fork keeps it current in a forked worker.
        self._pid = os.getpid()
        self._preparing: threading.Thread | None = None

    @property
    def pid(self) -> int:
        """The id of the process recording (kept current in a forked worker)."""
        return self._pid

    def _write(self, records: Sequence[Record], batch_id: str) -> object:
        """The writer's ``write``: through the helper process when it can take the
        batch (entry batches of a run derived here are derived first), else here."""
        trails = self._local_trails
        if not trails.has_entries(records):
            return self._writer_process(records, batch_id)
        records = trails.for_helper(records, batch_id)
        written = self._writer_process(records, batch_id)
        trails.acknowledged(records)
        return written

    def _write_rows(self, records: Sequence[Record], batch_id: str) -> object:
        """Write a batch in this process: raw entries derived into node trails, and
        trails expanded into their rows."""
        rows = expand_trails(self._local_trails.derived(records, batch_id))
        return self.store.write(rows, batch_id)

    # -- problems -------------------------------------------------------------------
    def _warn(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            log.warning("waldo: %s", message)

    def prepare_store(self, in_process: bool = False) -> None:
        """Start reaching the store in the background (driver import, connection,
        schema check) so that :meth:`check_store` at run start finds it ready.

        With a writer helper process (and not strict) the helper does it: the
        pipeline's process then never imports the driver nor runs SQL while recording,
        unless ``in_process`` says that it will read the journal itself (an incremental
        runner's plan), in which case it connects too.
        """
        if self._preparing is not None:
            return
        self._writer_process.start()
        if self._checked_by_helper() and not in_process:
            return

        def work() -> None:
            with contextlib.suppress(Exception):  # check_store reports the problem
                self.store.ensure_schema()

        self._preparing = threading.Thread(target=work, name="waldo-connect", daemon=True)
        self._preparing.start()

    def check_store(self) -> bool:
        """Reach the store (creating or migrating its tables); warn or raise if it fails.

        Returns True when the store answered, or when the writer helper process checks
        it (it reports a failure through its first batch). In strict mode a failure raises.
        """
        preparing, self._preparing = self._preparing, None
        if preparing is not None:
            preparing.join(timeout=30)
        elif self._checked_by_helper():
            # The helper connects and migrates as it starts; if the store fails, its
            # first batch fails and is spooled, with the same one warning.
            return True
        try:
            self.store.ensure_schema()
            return True
        except WaldoError as exc:
            if self.settings.strict:
                raise
            self._warn(self.writer.spool_notice(exc))  # the writer's words: one warning
            return False

    def _checked_by_helper(self) -> bool:
        return not self.settings.strict and self._writer_process.in_use

    # -- runs -----------------------------------------------------------------------
    def start_run(self, info: RunInfo) -> None:
        now = time.time()
        self._active[info.run_id] = now
        row = {
            "run_id": info.run_id,
            "kind": info.kind,
            "project": info.project,
            "project_path": info.project_path,
            "pipeline_names": list(info.pipeline_names),
            "env": info.env,
            "runtime_params": mask_params(
                json_safe(info.runtime_params, "runtime parameter"), self.settings.mask
            ),
            "run_params": json_safe(info.run_params, "run parameter"),
            "kedro_version": info.kedro_version,
            "waldo_version": __version__,
            "git_sha": info.git_sha,
            "git_dirty": info.git_dirty,
            "user_name": info.user_name,
            "host": info.host,
            "pid": info.pid,
            "runner": info.runner,
            "status": "running",
            "started_at": now,
            "heartbeat_at": now,
            "lease_seconds": self.settings.lease_seconds,
            "catalog_hash": info.catalog_hash,
            "pipeline_hash": info.pipeline_hash,
        }
        self._next_beat = now + self.settings.heartbeat_seconds
        self.writer.wake_every(None)
        self.writer.put("runs", row)

    def ending_soon(self) -> None:
        """The integration expects its run to end within a few nodes: the writer wakes
        now and, from then on, sends small batches, so that the run's final flush
        (which its end waits for) finds a small batch to write, not everything noted
        since the writer last woke. Until the next run starts."""
        self.writer.wake_every(TAIL_BATCH)
        self.writer.wake()

    def end_run(self, run_id: str, status: str, error: BaseException | None = None) -> None:
        now = time.time()
        self._active.pop(run_id, None)
        row: dict[str, Any] = {
            "run_id": run_id,
            "status": status,
            "finished_at": now,
            "heartbeat_at": now,
        }
        row.update(describe_error(error))
        self.writer.put("runs", row)

    def update_run(self, run_id: str, **fields: Any) -> None:
        """Merge extra facts into a run row (e.g. a hash known only later)."""
        self.writer.put("runs", {"run_id": run_id, **fields})

    # -- events and nodes (hot path) --------------------------------------------------
    def event(
        self,
        run_id: str,
        event_type: str,
        target_name: str | None,
        target_id: str | None = None,
        duration_s: float | None = None,
        timestamp: float | None = None,
    ) -> None:
        """Append one row to the seed's ``events`` table (cheap: no I/O).

        Without an explicit ``target_id`` the short id hashes the target's kind (the
        word after the first underscore of the hook name: node, dataset, pipeline...)
        with its name, so a node and a dataset of the same name get different ids.
        """
        if target_id is None and target_name is not None:
            target_id = target_id_of(event_type, target_name)
        self.writer.put(
            "events",
            (
                run_id,
                event_type,
                target_id,
                target_name,
                timestamp if timestamp is not None else time.time(),
                duration_s,
            ),
        )

    def node_started(
        self,
        run_id: str,
        node_name: str,
        func_name: str | None,
        started_at: float,
        code_hash: str | None = None,
        params_hashes: Mapping[str, str] | None = None,
    ) -> None:
        row: dict[str, Any] = {
            "id": node_run_id(run_id, node_name),
            "run_id": run_id,
            "node_name": node_name,
            "func_name": func_name,
            "status": "running",
            "started_at": started_at,
            "pid": self._pid,
        }
        if code_hash is not None:
            row["code_hash"] = code_hash
        if params_hashes is not None:
            row["params_hashes"] = json_map(params_hashes)
        self.writer.put("node_runs", row)

    def node_trail(
        self,
        run_id: str,
        node_name: str,
        func_name: str | None,
        started_at: float | None,
        code_hash: str | None = None,
        params_hashes: Mapping[str, str] | None = None,
        status: str | None = "running",
        steps: Sequence[Any] = (),
        reason: str | None = None,
        error: BaseException | None = None,
    ) -> None:
        """Queue a node's trail (:mod:`waldo.journal._trail`): ``running`` when it
        starts, its final status when it ends, each with the node's steps since the
        last one (:func:`~waldo.journal.node_step`, :func:`~waldo.journal.dataset_step`).
        The writer builds its events, node-run row and dataset versions, off the
        pipeline's thread."""
        trail = NodeTrail(
            run_id,
            node_name,
            func_name,
            started_at,
            self._pid,
            code_hash,
            None if params_hashes is None else json_map(params_hashes),
            status,
            reason,
            describe_error(error) if error is not None else None,
        )
        self.writer.put_record(trail_record(trail, steps))

    def node_entries(
        self,
        run_id: str,
        entries: list[Any],
        facts: Sequence[Any] = (),
        announce: bool = False,
        final: bool = False,
        error: BaseException | None = None,
    ) -> None:
        """Queue a batch of raw node and dataset entries (:mod:`waldo.journal._derive`,
        nodes named, payloads plain) and the facts of nodes not sent before; the
        writer's helper derives their trails. ``announce``: send the live row of every
        node running at the batch's end; ``final``: the run ended (``error`` why it
        failed), send every node still unfinished."""
        fields = describe_error(error) if error is not None else None
        self.writer.put_record(
            entry_batch_row(run_id, self._pid, entries, facts, announce, final, fields)
        )

    def trail_records(self, records: Sequence[tuple[Any, ...]]) -> None:
        """Queue node trails derived in this process (``TrailDeriver.feed``)."""
        put = self.writer.put_record
        for record in records:
            put(record)

    def node_skipped(
        self,
        run_id: str,
        node_name: str,
        reason: str,
        func_name: str | None = None,
        code_hash: str | None = None,
        params_hashes: Mapping[str, Any] | None = None,
        input_versions: Mapping[str, Any] | None = None,
        output_versions: Mapping[str, Any] | None = None,
    ) -> None:
        """Record a node an incremental run did not run, and why.

        A skipped node is as of its last successful run: its fingerprints are that
        run's, so diffs and lineage see the versions it stands for.
        """
        now = time.time()
        self.writer.put(
            "node_runs",
            {
                "params_hashes": dict(params_hashes or {}),
                "input_versions": dict(input_versions or {}),
                "output_versions": dict(output_versions or {}),
                "id": node_run_id(run_id, node_name),
                "run_id": run_id,
                "node_name": node_name,
                "func_name": func_name,
                "status": "skipped",
                "started_at": now,
                "finished_at": now,
                "duration_s": 0.0,
                "reason": reason,
                "code_hash": code_hash,
                "pid": self._pid,
            },
        )

    def node_finished(
        self,
        run_id: str,
        node_name: str,
        status: str,
        started_at: float | None,
        inputs: Mapping[str, float | None] | None = None,
        outputs: Mapping[str, float | None] | None = None,
        error: BaseException | None = None,
        func_name: str | None = None,
        input_versions: Mapping[str, str | None] | None = None,
        output_versions: Mapping[str, str | None] | None = None,
        reason: str | None = None,
    ) -> None:
        now = time.time()
        row: dict[str, Any] = {
            "id": node_run_id(run_id, node_name),
            "run_id": run_id,
            "node_name": node_name,
            "status": status,
            "finished_at": now,
            "duration_s": (now - started_at) if started_at is not None else None,
            "inputs": json_map(inputs),
            "outputs": json_map(outputs),
            "pid": self._pid,
        }
        if started_at is not None:
            row["started_at"] = started_at
        if func_name is not None:
            row["func_name"] = func_name
        if input_versions is not None:
            row["input_versions"] = json_map(input_versions)
        if output_versions is not None:
            row["output_versions"] = json_map(output_versions)
        if reason is not None:
            row["reason"] = reason
        row.update(describe_error(error))
        self.writer.put("node_runs", row)

    def record_checks(self, results: Sequence[CheckResult]) -> None:
        """Queue data check results, one ``check_results`` row each (cheap: no I/O)."""
        for result in results:
            self.writer.put("check_results", result.row())

    def snapshot(
        self, table: str, content: Any, name: str | None = None, json_ready: bool = False
    ) -> str:
        """Store a content-addressed snapshot (``catalogs`` or ``pipelines``); return
        its full hash. ``json_ready`` content (built by Waldo from strings and lists,
        not user values) skips the copy that makes user values storable."""
        safe = content if json_ready else json_safe(content, f"{table[:-1]} entry")
        text = canonical_json(safe)
        full = text_digest(named_content_json(name, text) if name is not None else text)
        # The content travels as its JSON text: a pipeline's nested dicts, kept in the
        # writer's queue, would outlive young garbage collections (see json_map).
        row: dict[str, Any] = {"full_hash": full, "hash": full[:8], "content": text}
        if table == "pipelines":
            row["name"] = name
        self.writer.put(table, row)
        return full

    # -- delivery -------------------------------------------------------------------
    def flush(self, timeout: float | None = 60.0) -> FlushResult:
        """Write everything recorded so far; in strict mode raise if some was not."""
        result = self.writer.flush(timeout)
        if self.settings.strict and (result.spooled or result.lost):
            raise RecordingError(
                f"Waldo could not write {result.spooled + result.lost} journal rows to "
                f"{self.store.display_url} ({result.error}); strict mode stops the run."
            )
        return result

    def replay_spool(self) -> ReplayReport:
        """Write everything waiting in the spool folder (what ``waldo sync`` does)."""
        self.store.ensure_schema()
        return self.spool.replay(self._write_rows)

    def replay_spool_in_background(self) -> None:
        if not self.spool.has_pending():
            return

        def work() -> None:
            try:
                report = self.replay_spool()
                if report.records:
                    log.info("waldo: replayed %d spooled journal rows", report.records)
            except StoreError:
                pass  # still down: the spool stays for the next try

        threading.Thread(target=work, name="waldo-spool-replay", daemon=True).start()

    # -- liveness -------------------------------------------------------------------
    def when_writer_wakes(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` on the writer's thread each time it wakes, before it takes
        the records waiting: an integration queues there what it keeps off its hot path
        while it can (the live rows of nodes still running). Registering the same
        callback twice calls it once."""
        self._wake_callbacks.add(callback)

    def _writer_woke(self) -> None:
        self._beat_if_due()
        for callback in list(self._wake_callbacks):
            try:
                callback()
            except Exception as exc:  # the writer's thread must live on
                self._warn(f"unexpected error while the journal writer woke ({exc!r})")

    def _beat_if_due(self) -> None:
        """Refresh ``heartbeat_at`` of the runs active here every ``heartbeat_seconds``.

        Called by the writer's thread each time it wakes (every half second at most),
        so a heartbeat is one more queued row like any other: no thread of its own to
        start with each run, and no SQL in the pipeline's process (the writer's helper
        process writes it). A beat never changes a run's status.
        """
        now = time.time()
        if not self._active or now < self._next_beat:
            return
        self._next_beat = now + self.settings.heartbeat_seconds
        for run_id in list(self._active):
            self.writer.put("runs", {"run_id": run_id, "heartbeat_at": now})

    def active_runs(self) -> list[str]:
        return list(self._active)

    def close(self) -> None:
        """At exit: a run still active here did not end normally; say so and flush."""
        if os.getpid() != self._pid:
            return
        for run_id in list(self._active):
            self._active.pop(run_id, None)
            self.writer.put(
                "runs",
                {
                    "run_id": run_id,
                    "status": "interrupted",
                    "finished_at": time.time(),
                    "error_message": "the process exited before the run ended",
                },
            )
        try:
            self.writer.flush(timeout=30)
        except Exception as exc:  # pragma: no cover - last resort at exit
            log.warning("waldo: could not flush the journal at exit: %s", exc)
        finally:
            self._writer_process.close()

    def after_fork(self) -> None:
        """In a forked child: new connections, no heartbeat, no runs of our own."""
        self._pid = os.getpid()
        self._active = {}
        self.store.forget_after_fork()


_recorders: dict[tuple[str, str, bool, float], Recorder] = {}
_recorders_lock = threading.Lock()


def get_recorder(settings: Settings) -> Recorder:
    """The process-wide recorder for a store URL and spool folder."""
    key = (
        settings.store_url,
        str(settings.spool_dir),
        settings.strict,
        settings.heartbeat_seconds,
    )
    with _recorders_lock:
        recorder = _recorders.get(key)
        if recorder is None:
            recorder = Recorder(settings)
            _recorders[key] = recorder
        return recorder


def _close_all() -> None:
    for recorder in list(_recorders.values()):
        recorder.close()


def _after_fork_in_child() -> None:
    for recorder in list(_recorders.values()):
        recorder.after_fork()


atexit.register(_close_all)
os.register_at_fork(after_in_child=_after_fork_in_child)
