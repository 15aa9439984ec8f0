"""The background batch writer: hooks enqueue, one thread writes.

``put`` is the hot path: it appends a tuple to a deque and returns, with no lock and
no I/O. A daemon thread wakes every ``interval`` seconds, when ``full_batch`` records
wait, or when asked to flush, takes everything queued and writes it in one
exactly-once transaction. When the database cannot be reached the batch goes to the
spool instead, and later batches replay this process's spool first once the database
answers again.

``flush`` blocks until everything enqueued before the call is written or spooled; it is
called at run end and, through ``atexit``, at interpreter exit. After ``fork`` the
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
from waldo.store._bulk import Record, Row
from waldo.store._spool import Spool

log = logging.getLogger("waldo")


@dataclass
class FlushResult:
    """What happened to the records of one flush."""

    written: int = 0
    spooled: int = 0
    lost: int = 0
    error: str | None = None


class BatchWriter:
    """Queues journal records and writes them in batches on a background thread."""

    def __init__(
        self,
        write: Callable[[Sequence[Record], str], object],
        spool: Spool,
        *,
        interval: float = 0.5,
        max_batch: int = 50_000,
        full_batch: int = 256,
        on_problem: Callable[[str], None] | None = None,
        on_wake: Callable[[], None] | None = None,
        spool_form: Callable[[list[Record], str], Sequence[Record]] | None = None,
        wait_ready: Callable[[float, threading.Event | None], None] | None = None,
        flush_wait: float = 0.0,
    ) -> None:
        self._write = write
        self._spool = spool
        self.interval = interval
        self.max_batch = max_batch
        # Wake the thread as soon as this many records wait, not only every interval:
        # what is still unwritten when a run ends (and its final flush waits for) is
        # then at most about two such batches, whatever the moment the run ends.
        self.full_batch = self._usual_batch = max(1, full_batch)
        self._wake_at = self.full_batch
        self._on_problem = on_problem or (lambda message: log.warning("waldo: %s", message))
        # Called on the writer's thread each time it wakes, before it drains: what it
        # queues goes out in the same batch (the recorder's heartbeats).
        self._on_wake = on_wake
        # What a batch that could not be written is kept as in the spool: records that
        # only this process can turn into rows (it holds their state) are turned now.
        self._spool_form = spool_form
        # How a write that goes through a helper process waits (without the GIL) until
        # the helper can take batches (WriterProcess.wait_ready), and how long a flush
        # waits for it (see _loop).
        self._wait_ready = wait_ready
        self._flush_wait = flush_wait
        self._queue: deque[tuple[Any, ...]] = deque()  # Records, or flat records
        self._wake = threading.Event()
        self._flushing = threading.Event()  # set with _wake by flush(): do not wait
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
        self._new_batch_ids()
        _live_writers.add(self)

    # -- hot path -------------------------------------------------------------------
    def put(self, table: str, row: Row) -> None:
        """Enqueue one row; never blocks, never raises."""
        self._queue.append((table, row))
        self._enqueued += 1
        if self._thread is None:
            self._start()

    def put_record(self, record: tuple[Any, ...]) -> None:
        """Enqueue a flat record, ``(table, *row values)`` with at least two values:
        one tuple instead of a (table, row) pair, which the garbage collector can stop
        tracking at its first collection while the record waits for the writer."""
        self._queue.append(record)
        self._enqueued += 1
        if self._thread is None:
            self._start()
        elif self._enqueued >= self._wake_at:
            self._wake_at = self._enqueued + self.full_batch
            self._wake.set()

    # -- control --------------------------------------------------------------------
    def wake_every(self, records: int | None = None) -> None:
        """Wake the thread once this many records wait, counting those already
        waiting (None: the writer's own ``full_batch``). A run about to end asks for
        small batches, so that what its final flush waits for is one small batch, not
        the tail of a full one."""
        self.full_batch = self._usual_batch if records is None else max(1, records)
        waiting = len(self._queue)
        if waiting >= self.full_batch and self._thread is not None:
            self._wake_at = self._enqueued + self.full_batch
            self._wake.set()
        else:
            self._wake_at = self._enqueued + self.full_batch - waiting

    def wake(self) -> None:
        """Wake the thread now, without waiting for it: what is queued, and what its
        wake-up callback adds, is written while the caller goes on."""
        if self._thread is not None:
            self._wake.set()

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

    def flush(self, timeout: float | None = 60.0) -> FlushResult:
        """Write (or spool) everything enqueued so far; wait at most ``timeout`` seconds."""
        if self._pid != os.getpid():
            self._reset_after_fork()
        target = self._enqueued
        before = FlushResult(self._totals.written, self._totals.spooled, self._totals.lost, None)
        if self._thread is None or not self._thread.is_alive():
            self._drain()  # no thread (after fork, or at exit): write inline
        else:
            with self._done:
                self._flushing.set()
                self._wake.set()
                self._done.wait_for(lambda: self._handled >= target, timeout=timeout)
        return FlushResult(
            self._totals.written - before.written,
            self._totals.spooled - before.spooled,
            self._totals.lost - before.lost,
            self._last.error,
        )

    def close(self) -> FlushResult:
        result = self.flush()
        self._stopping = True
        self._flushing.set()
        self._wake.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=5)
        return result

    def spool_notice(self, error: BaseException) -> str:
        """The one warning for rows kept in the spool because the store failed."""
        return (
            f"{str(error).rstrip('.')}; keeping events in the local spool {self._spool.directory} "
            "(`waldo sync` or the next run writes them)"
        )

    # -- internals ------------------------------------------------------------------
    def _start(self) -> None:
        self._stopping = False
        thread = threading.Thread(target=self._loop, name="waldo-writer", daemon=True)
        self._thread = thread
        thread.start()

    def _new_batch_ids(self) -> None:
        """Batch ids (each a batch's exactly-once marker) are a random prefix, new in
        every process, and a counter: one ``uuid4`` per batch was a system call on the
        writer's thread, which gives the GIL away at each one."""
        self._batch_prefix = uuid.uuid4().hex[:20]
        self._batches = 0

    def _next_batch_id(self) -> str:
        self._batches += 1
        return f"{self._batch_prefix}{self._batches:012x}"

    def _reset_after_fork(self) -> None:
        # The parent owns whatever it had queued; the child starts clean.
        self._pid = os.getpid()
        self._new_batch_ids()
        self._queue = deque()
        self._enqueued = 0
        self._handled = 0
        self._wake_at = self.full_batch
        self._thread = None
        self._wake = threading.Event()
        self._flushing = threading.Event()
        self._done = threading.Condition()

    def _loop(self) -> None:
        # A writer that hands batches to a helper process may not have it ready yet
        # (a short run ends, or its last nodes wake the writer, within milliseconds of
        # the helper's start). A timer tick or a full batch waits for it, up to one
        # more interval, rather than write in the pipeline's process (and gives way to
        # a flush); a flush waits up to flush_wait (the helper's WriterProcess.flush_wait:
        # whether writing here would take longer than the helper's start).
        wait_ready = self._wait_ready
        while not self._stopping:
            self._wake.wait(self.interval)
            if wait_ready is not None:
                if not self._flushing.is_set():
                    wait_ready(self.interval, self._flushing)
                elif self._flush_wait > 0:
                    wait_ready(self._flush_wait, None)
            self._wake.clear()
            self._flushing.clear()
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
            record = queue.popleft()
            batch.append(record if len(record) == 2 else (record[0], record[1:]))
        return batch

    def _drain(self) -> None:
        # Only what was queued when the thread woke: rows put while a batch is being
        # written wait for the next tick (or flush), so a busy run makes a few large
        # batches instead of a stream of small ones whose fixed cost (transaction,
        # marker, statement compilation) takes the GIL from the pipeline.
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

    def _deliver(self, batch: list[Record]) -> None:
        batch_id = self._next_batch_id()
        if not self.store_down and self._spool.has_pending(own_only=True):
            self._replay_own()
        if not self.store_down:
            try:
                self._write(batch, batch_id)
                self._totals.written += len(batch)
                self._last = FlushResult(written=len(batch))
                return
            except StoreUnavailable as exc:
                self._down_since = time.monotonic()
                self._problem(self.spool_notice(exc))
            except (StoreError, ConfigError) as exc:  # ConfigError: e.g. no driver
                self._problem(self.spool_notice(exc))
            except Exception as exc:  # never let a writer bug kill the thread
                self._problem(f"unexpected error writing the journal ({exc!r}); spooling")
        self._to_spool(batch, batch_id)

    def _to_spool(self, batch: list[Record], batch_id: str) -> None:
        kept: Sequence[Record] = batch
        if self._spool_form is not None:
            try:
                kept = self._spool_form(batch, batch_id)
            except Exception as exc:  # spooled as it came: `waldo sync` does its best
                self._problem(f"unexpected error preparing the journal for the spool ({exc!r})")
        try:
            self._spool.append(kept, batch_id)
            self._totals.spooled += len(batch)
            self._last = FlushResult(spooled=len(batch), error=self._last.error)
        except SpoolError as exc:
            self._totals.lost += len(batch)
            self._last = FlushResult(lost=len(batch), error=str(exc))
            self._problem(str(exc))

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
