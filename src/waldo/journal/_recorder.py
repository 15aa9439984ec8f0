"""Recording runs: the domain API the integrations call from their hot paths.

A :class:`Recorder` turns "a run started", "a node ran" (:meth:`Recorder.record_node`,
a :class:`~waldo.journal.NodeRecord`), "a check failed" into journal rows and hands them
to the store's background writer, whose thread builds the rows of node records
(:func:`~waldo.journal._node_record.node_rows`) and writes each batch exactly once.
Nothing here waits for the database except :meth:`Recorder.flush` and
:meth:`Recorder.check_store`, which integrations call at run boundaries. Recording
problems never raise unless the settings are strict; they are logged once, clearly.

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
from collections.abc import Mapping, Sequence
from dataclasses import asdict, replace
from typing import Any

from waldo._errors import StoreError, WaldoError
from waldo._version import __version__
from waldo.fingerprint import canonical_json, named_content_json, text_digest
from waldo.journal._checks import CheckResult
from waldo.journal._jsonsafe import json_safe
from waldo.journal._model import RunInfo
from waldo.journal._node_record import NodeRecord, node_rows
from waldo.journal._rows import describe_error, node_run_id
from waldo.journal._rows import target_id as target_id_of
from waldo.journal._secrets import mask_params
from waldo.journal._settings import Settings
from waldo.store import (
    EXIT_WAIT_S,
    RUN_END_WAIT_S,
    BatchWriter,
    FlushResult,
    Record,
    Spool,
    Store,
    store_key,
)

log = logging.getLogger("waldo")

NODE = "node_record"
"""The queue's name for a node record (its rows are built on the writer's thread)."""


class RecordingError(WaldoError):
    """Raised in strict mode when the journal could not record a run completely."""


class Recorder:
    """Turns run, node and dataset happenings into journal rows for one store."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(settings.store_url)
        self.spool = Spool(settings.spool_dir, store_key(settings.store_url))
        self.writer = BatchWriter(
            self.store.write,
            self.spool,
            on_problem=self._warn,
            on_wake=self._beat_if_due,
            prepare=self._rows,
        )
        self._active: dict[str, float] = {}  # run id -> start time, in this process
        self._next_beat = 0.0
        self._warned: set[str] = set()
        self._pid = os.getpid()
        self._preparing: threading.Thread | None = None
        self._replaying: threading.Thread | None = None  # the spool replay a run started

    def _rows(self, records: list[Record]) -> list[Record]:
        """The writer's ``prepare``: node records become their rows, after the work
        they left for this thread; the other records are rows already."""
        out: list[Record] = []
        for table, row in records:
            if table != NODE:
                out.append((table, row))
                continue
            record: NodeRecord = row  # type: ignore[assignment]
            for access in (*record.loads, *record.saves):
                later, access.later = access.later, None
                if later is not None:
                    try:
                        later(access)
                    except Exception as exc:  # recorded without a version: counts as changed
                        self._warn(f"could not fingerprint {access.dataset} ({exc})")
            out += node_rows(record)
        return out

    # -- problems -------------------------------------------------------------------
    def _warn(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            log.warning("waldo: %s", message)

    def prepare_store(self) -> None:
        """Start reaching the store in the background (driver import, connection,
        schema check) so that :meth:`check_store` at run start finds it ready."""
        if self._preparing is not None:
            return

        def work() -> None:
            with contextlib.suppress(Exception):  # check_store reports the problem
                self.store.ensure_schema()

        self._preparing = threading.Thread(target=work, name="waldo-connect", daemon=True)
        self._preparing.start()

    def check_store(self) -> bool:
        """Reach the store (creating or migrating its tables) as a run starts.

        Returns True when the store answered. In strict mode a failure raises.
        """
        preparing, self._preparing = self._preparing, None
        if preparing is not None:
            preparing.join(timeout=30)
        try:
            self.store.ensure_schema()
            return True
        except WaldoError:
            if self.settings.strict:
                raise
            # The writer's first batch says it, once it knows where the rows went.
            return False

    # -- runs -----------------------------------------------------------------------
    def start_run(self, info: RunInfo) -> None:
        now = time.time()
        self._active[info.run_id] = now
        row = {
            **asdict(info),
            "pipeline_names": list(info.pipeline_names),
            "runtime_params": mask_params(
                json_safe(info.runtime_params, "runtime parameter"), self.settings.mask
            ),
            "run_params": json_safe(info.run_params, "run parameter"),
            "waldo_version": __version__,
            "status": "running",
            "started_at": now,
            "heartbeat_at": now,
            "lease_seconds": self.settings.lease_seconds,
        }
        self._next_beat = now + self.settings.heartbeat_seconds
        self.writer.put("runs", row)

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

    def record_node(self, record: NodeRecord) -> None:
        """Queue a node's record (cheap: no I/O): as it starts to run, its live
        ``running`` row with its loads, so that the node shows as running; when it
        ends (any other status), the rest. The hooks no longer change a record once it
        ended; a running one is queued as a copy of what it holds now."""
        if record.status == "running":
            queued = replace(record, loads=list(record.loads), saves=[])
            record.announced = True
        else:
            queued = record
        self.writer.put(NODE, queued)

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
    def flush(self, timeout: float = RUN_END_WAIT_S) -> FlushResult:
        """Write everything recorded so far (what is not written within ``timeout`` is
        spooled); in strict mode raise if some was not."""
        result = self.writer.flush(timeout)
        replaying, self._replaying = self._replaying, None
        if replaying is not None:
            # A replay not done by then stops with the process; its claim is released
            # and the next run, or `waldo sync`, goes on with it.
            replaying.join(timeout)
        if self.settings.strict and (result.spooled or result.lost):
            raise RecordingError(
                f"Waldo could not write {result.spooled + result.lost} journal rows to "
                f"{self.store.display_url} ({result.error}); strict mode stops the run."
            )
        return result

    def replay_spool_in_background(self) -> None:
        """Write what waits in this store's spool (what ``waldo sync`` does) while the
        run goes; the run's end (:meth:`flush`) waits for it, at most its timeout."""
        if not self.spool.has_pending():
            return

        def work() -> None:
            try:
                self.store.ensure_schema()
                report = self.spool.replay(self.store.write)
                if report.records:
                    log.info("waldo: replayed %d spooled journal rows", report.records)
            except StoreError:
                pass  # still down: the spool stays for the next try

        self._replaying = threading.Thread(target=work, name="waldo-spool-replay", daemon=True)
        self._replaying.start()

    # -- liveness -------------------------------------------------------------------
    def _beat_if_due(self) -> None:
        """Refresh ``heartbeat_at`` of the runs active here every ``heartbeat_seconds``.

        Called by the writer's thread each time it wakes (every half second at most),
        so a heartbeat is one more queued row like any other. A beat never changes a
        run's status.
        """
        now = time.time()
        if not self._active or now < self._next_beat:
            return
        self._next_beat = now + self.settings.heartbeat_seconds
        for run_id in list(self._active):
            self.writer.put("runs", {"run_id": run_id, "heartbeat_at": now})

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
            self.writer.flush(timeout=EXIT_WAIT_S)
        except Exception as exc:  # pragma: no cover - last resort at exit
            log.warning("waldo: could not flush the journal at exit: %s", exc)

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
