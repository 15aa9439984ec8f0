"""The background batch writer: hooks enqueue, one thread writes.

``put`` is the hot path: it appends to a deque and returns, with no lock and no I/O.
A daemon thread wakes every ``interval`` seconds, when ``full_batch`` records wait, or
when asked to flush, takes everything queued, turns it into rows (``prepare``) and
writes them in one exactly-once transaction (its batch id is the marker). When the
database cannot be reached the batch goes to the spool instead, and later batches replay
this process's spool first once the database answers again.

``flush`` blocks until everything enqueued before the call is written or spooled, at
most its timeout: a database that stops answering must not hold a pipeline, so what is
still queued then, and the batch being written, go to the spool (under their batch ids:
whichever copy lands first is the one written). It is called at run end and, through
``atexit``, at interpreter exit. After ``fork`` the
child starts with an empty queue and no thread: the parent still owns what it had
queued, so nothing is written twice.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import uuid
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from waldo._errors import ConfigError, SpoolError, StoreError, StoreUnavailable
from waldo.store._bulk import Record
from waldo.store._spool import Spool

log = logging.getLogger("waldo")

#: How long a run's end waits for the journal before spooling the rest.
RUN_END_WAIT_S = 5.0
#: How long the interpreter's exit waits for the journal before spooling the rest.
EXIT_WAIT_S = 3.0


@dataclass
class FlushResult:
    """What happened to the rows of one flush."""

    written: int = 0
    spooled: int = 0
    lost: int = 0
    error: str | None = None


@dataclass
class _InFlight:
    """The batch the writer's thread is writing."""

    rows: list[Record]
    batch_id: str
    records: int  # the queued records it was prepared from


class BatchWriter:
    """Queues journal records and writes them in batches on a background thread."""

    def __init__(
        self,
        write: Callable[[Sequence[Record], str], object],
        spool: Spool,
        *,
        interval: float = 0.5,
        max_batch: int = 50_000,
        full_batch: int = 64,
        on_problem: Callable[[str], None] | None = None,
        on_wake: Callable[[], None] | None = None,
        prepare: Callable[[list[Record]], list[Record]] | None = None,
    ) -> None:
        self._write = write
        self._spool = spool
        self.interval = interval
        self.max_batch = max_batch
        # Wake the thread as soon as this many records wait, not only every interval:
        # what a run's final flush waits for is then at most about one such batch.
        self.full_batch = max(1, full_batch)
        self._on_problem = on_problem or (lambda message: log.warning("waldo: %s", message))
        # Called on the writer's thread each time it wakes, before it drains: what it
        # queues goes out in the same batch (the recorder's heartbeats).
        self._on_wake = on_wake
        # Turns a batch's records into table rows, once per batch on the writer's
        # thread: the same rows are written, or spooled, whatever happens next.
        self._prepare = prepare
        self._queue: deque[Record] = deque()
        self._in_flight: _InFlight | None = None  # the batch being written
        self._spooling = threading.Lock()  # the writer's thread and a flush giving up
        self._spooled_in_flight: str | None = None  # a batch a flush gave up on, spooled
        self._wake = threading.Event()
        self._done = threading.Condition()
        self._enqueued = 0  # only the hot path writes it; reads are racy but monotone
        self._handled = 0
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._last: FlushResult = FlushResult()
        self._totals = FlushResult()
        self._down_since: float | None = None
        self.retry_after = 2.0
        self._reported: set[str] = set()
        self._pid = os.getpid()
        _live_writers.add(self)

    # -- hot path -------------------------------------------------------------------
    def put(self, table: str, row: Any) -> None:
        """Enqueue one record; never blocks, never raises."""
        self._queue.append((table, row))
        self._enqueued += 1
        if self._thread is None:
            self._start()
        elif len(self._queue) == self.full_batch:  # once each time the queue fills up
            self._wake.set()

    # -- control --------------------------------------------------------------------
    @property
    def totals(self) -> FlushResult:
        """Counts over the writer's life: written, spooled and lost records."""
        return self._totals

    @property
    def store_down(self) -> bool:
        """True while the database is considered unreachable (retried every few seconds)."""
        if self._down_since is None:
            return False
        if time.monotonic() - self._down_since >= self.retry_after:
            self._down_since = None
            return False
        return True

    def flush(self, timeout: float = RUN_END_WAIT_S) -> FlushResult:
        """Write everything enqueued so far; when the writer finishes no batch for
        ``timeout`` seconds (the database stalls), spool what is left instead."""
        if self._pid != os.getpid():
            self._reset_after_fork()
        target = self._enqueued
        before = FlushResult(self._totals.written, self._totals.spooled, self._totals.lost, None)
        if self._thread is None or not self._thread.is_alive():
            self._drain()  # no thread (after fork, or at exit): write inline
        elif not self._wait_for_progress(target, timeout):
            self._spool_backlog()
        return FlushResult(
            self._totals.written - before.written,
            self._totals.spooled - before.spooled,
            self._totals.lost - before.lost,
            self._last.error,
        )

    def _wait_for_progress(self, target: int, timeout: float) -> bool:
        """Wait until ``target`` records are handled; False once ``timeout`` seconds pass
        without the writer finishing a batch (a slow database that answers is waited
        for, a stalled one is not)."""
        with self._done:
            self._wake.set()
            while True:
                seen = self._handled
                if self._done.wait_for(lambda: self._handled >= target, timeout=timeout):
                    return True
                if self._handled == seen:
                    return False

    def close(self, timeout: float = EXIT_WAIT_S) -> FlushResult:
        result = self.flush(timeout)
        self._stopping = True
        self._wake.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=1)  # a thread stuck in a write dies with the process
        return result

    def _kept_notice(self, cause: str) -> str:
        """The one warning for rows kept in the spool because the store failed."""
        return (
            f"{cause.rstrip('.')}; keeping events in the local spool {self._spool.directory} "
            "(`waldo sync` or the next run writes them)"
        )

    # -- internals ------------------------------------------------------------------
    def _start(self) -> None:
        self._stopping = False
        thread = threading.Thread(target=self._loop, name="waldo-writer", daemon=True)
        self._thread = thread
        thread.start()

    def _reset_after_fork(self) -> None:
        # The parent owns whatever it had queued; the child starts clean.
        self._pid = os.getpid()
        self._queue = deque()
        self._enqueued = 0
        self._handled = 0
        self._thread = None
        self._wake = threading.Event()
        self._done = threading.Condition()

    def _loop(self) -> None:
        while not self._stopping:
            self._wake.wait(self.interval)
            self._wake.clear()
            self._woke()
            self._drain()
        self._drain()

    def _woke(self) -> None:
        if self._on_wake is not None:
            try:
                self._on_wake()
            except Exception as exc:  # never let a callback kill the thread
                self._problem(f"unexpected error in the journal writer ({exc!r})")

    def _take(self, limit: int) -> list[Record]:
        batch: list[Record] = []
        queue = self._queue
        limit = min(limit, self.max_batch)
        while queue and len(batch) < limit:
            batch.append(queue.popleft())
        return batch

    def _drain(self) -> None:
        # Only what was queued when the thread woke: records put while a batch is being
        # written wait for the next wake-up, so a busy run makes a few large batches.
        remaining = len(self._queue)
        while True:
            batch = self._take(remaining)
            if not batch:
                with self._done:
                    self._done.notify_all()
                return
            remaining -= len(batch)
            self._deliver(batch)
            with self._done:
                self._handled += len(batch)
                self._done.notify_all()

    def _prepared(self, records: list[Record]) -> list[Record] | None:
        if self._prepare is None:
            return records
        try:
            return self._prepare(records)
        except Exception as exc:  # never let a writer bug kill the thread
            self._totals.lost += len(records)
            self._problem(f"unexpected error preparing journal rows ({exc!r})")
            return None

    def _deliver(self, records: list[Record]) -> None:
        batch_id = uuid.uuid4().hex
        batch = self._prepared(records)
        if batch is None:
            return
        if not self.store_down and self._spool.has_pending(own_only=True):
            self._replay_own()
        if not self.store_down:
            self._in_flight = _InFlight(batch, batch_id, len(records))
            try:
                self._write(batch, batch_id)
                self._totals.written += len(batch)
                self._last = FlushResult(written=len(batch))
                return
            except StoreUnavailable as exc:
                self._down_since = time.monotonic()
                cause = str(exc)
            except (StoreError, ConfigError) as exc:  # ConfigError: e.g. no driver
                cause = str(exc)
            except Exception as exc:  # never let a writer bug kill the thread
                cause = f"unexpected error writing the journal ({exc!r})"
            finally:
                self._in_flight = None
        else:
            cause = None  # down a moment ago: said when it went down
        if self._spooled_in_flight != batch_id:  # a flush that gave up spooled it already
            self._spool_batch(batch, batch_id, cause)

    def _spool_batch(self, batch: list[Record], batch_id: str, cause: str | None) -> None:
        """Keep a batch in the spool; one warning says why (``cause``) and where it went."""
        with self._spooling:
            try:
                self._spool.append(batch, batch_id)
            except SpoolError as exc:
                self._totals.lost += len(batch)
                message = f"{cause.rstrip('.')}, and {exc}" if cause else str(exc)
                self._problem(message)
                self._last = FlushResult(lost=len(batch), error=message)
                return
            self._totals.spooled += len(batch)
            if cause:
                self._problem(self._kept_notice(cause))
            self._last = FlushResult(spooled=len(batch), error=self._last.error)

    def _spool_backlog(self) -> None:
        """A flush timed out (the database stalls): spool the batch being written and
        everything queued, and treat the store as down until it answers again."""
        self._down_since = time.monotonic()
        cause = "the journal's database did not answer in time"
        in_flight = self._in_flight
        if in_flight is not None and self._spooled_in_flight != in_flight.batch_id:
            self._spooled_in_flight = in_flight.batch_id  # same id: written at most once
            self._spool_batch(in_flight.rows, in_flight.batch_id, cause)
            with self._done:
                self._handled += in_flight.records  # later flushes need not wait for it
        records = self._take(len(self._queue))
        while records:
            batch = self._prepared(records)
            if batch is not None:
                self._spool_batch(batch, uuid.uuid4().hex, cause)
            with self._done:
                self._handled += len(records)
                self._done.notify_all()
            records = self._take(len(self._queue))

    def _replay_own(self) -> None:
        try:
            report = self._spool.replay(self._write, own_only=True)
        except Exception as exc:
            self._problem(f"could not replay the spool: {exc}")
            return
        if report.failed_files:
            self._down_since = time.monotonic()

    def _problem(self, message: str) -> None:
        self._last = FlushResult(error=message)
        if message in self._reported:
            return  # one clear warning per problem, not one per batch
        self._reported.add(message)
        try:
            self._on_problem(message)
        except Exception:  # a strict-mode callback may raise; the thread must live on
            log.warning("waldo: %s", message)


_live_writers: weakref.WeakSet[BatchWriter] = weakref.WeakSet()


def _flush_all_at_exit() -> None:
    for writer in list(_live_writers):
        if writer._pid == os.getpid():
            try:
                writer.close()
            except Exception as exc:  # pragma: no cover - last resort at exit
                log.warning("waldo: could not flush the journal at exit: %s", exc)


def _reset_all_after_fork() -> None:
    for writer in list(_live_writers):
        writer._reset_after_fork()


atexit.register(_flush_all_at_exit)
os.register_at_fork(after_in_child=_reset_all_after_fork)
