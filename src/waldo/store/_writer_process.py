"""Journal batches written by a helper process, so the SQL work leaves the pipeline's GIL.

The batch writer's thread spends most of a batch in Python (building rows for the
driver, the driver itself), holding the GIL the pipeline needs. A
:class:`WriterProcess` is a drop-in ``write(records, batch_id)`` that hands the pickled
batch to a child interpreter (:mod:`waldo.store._writer_child`) and waits for its
answer, which releases the GIL; on a machine with a second core the SQL runs there.

The contract is exactly :meth:`waldo.store.Store.write`'s: the child runs the same batch
SQL (:mod:`waldo.store._batch_sql`) through the driver, so a batch is written in one
transaction with its exactly-once marker, and the child's errors come back as the same
:class:`~waldo.StoreUnavailable` / :class:`~waldo.StoreError` (the batch writer then
spools the batch, as before). The child starts lean, because it starts with every run
and, until it is ready, batches are written in the pipeline's process. (What it spends
once running, on the other CPU, did not show: a child that wrote nothing left a
1,000-node run as fast, see benchmarks/README.md.)

If the child cannot be started, is not ready yet, dies, or the caller is a forked copy
of the process that started it, the batch is written in this process instead, with the
same batch id: a batch the child committed before dying is recognised by its marker and
not written twice.

A caller whose records are not table rows yet (the journal's compact node trails) names
a ``prepare`` function, ``"module:function"``, that the child imports and applies to each
batch before writing it; ``write_here`` must then do the same in process.

Set ``WALDO_WRITER_PROCESS=0`` to always write in process (the default on a machine, or
under an affinity mask, with a single CPU).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from waldo._errors import ConfigError, StoreError, StoreUnavailable
from waldo.store._batch_sql import Record
from waldo.store._bulk import batch_plans
from waldo.store._driver import switched_off
from waldo.store._engine import driver_target
from waldo.store._writer_child import READY, MessageReader, Setup, send

ENV_SWITCH = "WALDO_WRITER_PROCESS"
# The longest a flush waits for a helper that is starting (see WriterProcess.flush_wait).
FLUSH_WAIT = 2.0
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])  # the folder holding waldo/
# The packages the child's modules live in, as bare module objects: importing
# waldo.store._writer_child then runs none of their __init__ modules, which import
# SQLAlchemy and the whole journal (see _writer_child).
_BARE_PACKAGES = ("waldo", "waldo.store", "waldo.journal", "waldo.fingerprint")
# The child imports this very copy of waldo (first on its path, in place of the current
# folder, which could shadow a module), then runs main().
_CHILD_CODE = f"""
import sys, types
sys.path[0] = {_PACKAGE_ROOT!r}
for name in {_BARE_PACKAGES!r}:
    package = types.ModuleType(name)
    package.__path__ = [sys.path[0] + "/" + name.replace(".", "/")]
    sys.modules[name] = package
from waldo.store._writer_child import main
raise SystemExit(main(sys.argv))
"""


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def enabled_by_env() -> bool:
    """Use a helper process unless switched off, or when there is no second CPU for it
    (on one CPU the child would only take time from the pipeline)."""
    if switched_off(ENV_SWITCH):
        return False
    return _cpus() > 1


class WriterProcess:
    """``write(records, batch_id)`` through a helper process, or in process as a fallback."""

    def __init__(
        self,
        url: str,
        write_here: Callable[[Sequence[Record], str], object],
        prepare: str | None = None,
    ) -> None:
        self._url = url
        self._prepare = prepare
        self._write_here = write_here
        self._lock = threading.Lock()
        self._io = threading.Lock()  # one batch on the pipe at a time
        self._child: subprocess.Popen[bytes] | None = None
        self._answers: MessageReader | None = None  # the child's stdout
        self._pid = os.getpid()
        self._ready = False
        self._broken = not enabled_by_env()

    def start(self) -> None:
        """Start the child in the background (it imports and connects while the run
        starts); never raises, a failure only means writing in process."""
        with self._lock:
            if self._child is not None or self._broken or os.getpid() != self._pid:
                return
            try:
                target = driver_target(self._url)
            except ConfigError:  # written in process, which says what is wrong
                target = None
            if target is None:
                self._broken = True
                return
            setup = Setup(self._url, target, batch_plans(), self._prepare or "")
            try:
                self._child = subprocess.Popen(
                    [sys.executable, "-c", _CHILD_CODE],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    close_fds=True,
                    bufsize=0,
                    start_new_session=True,  # Ctrl-C is for the parent, which flushes
                )
                # The setup goes through the pipe, not argv: the URL may hold a password.
                assert self._child.stdin is not None and self._child.stdout is not None
                self._answers = MessageReader(self._child.stdout)
                send(self._child.stdin, pickle.dumps(setup, pickle.HIGHEST_PROTOCOL))
            except OSError:
                self._broken = True

    def __call__(self, records: Sequence[Record], batch_id: str) -> object:
        with self._io:
            child = self._usable_child()
            answer = None if child is None else self._exchange(child, records, batch_id)
        if answer is None:
            return self._write_here(records, batch_id)
        kind, value = answer
        if kind == "ok":
            return value
        if kind == "unavailable":
            raise StoreUnavailable(value)
        raise StoreError(value)

    def _exchange(
        self, child: subprocess.Popen[bytes], records: Sequence[Record], batch_id: str
    ) -> tuple[str, Any] | None:
        """Send one batch and read the child's answer; None when the child is gone."""
        assert child.stdin is not None and child.stdout is not None
        try:
            send(child.stdin, pickle.dumps((records, batch_id), pickle.HIGHEST_PROTOCOL))
            answer = self._answers.receive() if self._answers is not None else None
        except (OSError, ValueError, pickle.PicklingError):
            answer = None
        if answer is None:  # the child died: this batch (and the rest) in process
            self._give_up()
            return None
        kind, value = pickle.loads(answer)
        return str(kind), value

    def _usable_child(self) -> subprocess.Popen[bytes] | None:
        child = self._child
        if child is None or not self.in_use:
            return None
        if not self._ready:
            # Not ready yet (still importing): write this batch here rather than wait.
            assert child.stdout is not None
            try:
                answers = self._answers
                if answers is None:
                    return None
                readable = answers.buffered or select.select([child.stdout], [], [], 0)[0]
                if not readable or answers.receive() != READY:
                    if readable:
                        self._give_up()
                    return None
            except (OSError, ValueError):
                self._give_up()
                return None
            self._ready = True
        return child

    @property
    def flush_wait(self) -> float:
        """How long a flush should wait for this helper while it starts (it is ready
        about 40 ms after it starts) rather than write in process. On PostgreSQL this
        process would first import the driver and connect: a 20-node run took 128 ms
        longer than without Waldo, and 58 ms waiting. On SQLite writing here is the
        quicker: 17 ms longer, against 37 waiting."""
        return 0.0 if self._url.startswith("sqlite") else FLUSH_WAIT

    @property
    def in_use(self) -> bool:
        """True when batches will go to the child (started, or starting, in this process)."""
        return not self._broken and self._child is not None and os.getpid() == self._pid

    def wait_ready(self, timeout: float, interrupt: threading.Event | None = None) -> None:
        """Wait (without the GIL) until the child is ready, ``timeout`` passes or
        ``interrupt`` is set: a background tick would rather wait for the child than
        write its batch in the pipeline's process."""
        deadline = time.monotonic() + timeout
        while not self._ready and self.in_use:
            if interrupt is not None and interrupt.is_set():
                return
            left = deadline - time.monotonic()
            if left <= 0:
                return
            child = self._child
            if child is None or child.stdout is None:
                return
            with contextlib.suppress(OSError, ValueError):
                select.select([child.stdout], [], [], min(left, 0.05))
            with self._io:
                self._usable_child()  # reads the ready signal once it is there

    def _give_up(self) -> None:
        self._broken = True
        self.close()

    def close(self) -> None:
        """Let the child finish and exit (it stops at end of input), without waiting.

        Every batch it took has been answered by then, so all it has left is closing
        its connection (on SQLite the last connection checkpoints the WAL, 20-30 ms)
        and its interpreter's exit: the pipeline's process need not sit through that
        at the end of every run. A thread reaps it (and kills it if it hangs); at
        interpreter exit, when no thread can start, the system does."""
        child, self._child = self._child, None
        if child is None or os.getpid() != self._pid:
            return
        for stream in (child.stdin, child.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        if child.poll() is not None:
            return
        with contextlib.suppress(RuntimeError):  # "can't create new thread at shutdown"
            threading.Thread(
                target=_reap, args=(child,), name="waldo-writer-reaper", daemon=True
            ).start()


def _reap(child: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Wait for a helper that was told to stop; one that hangs that long is killed."""
    try:
        child.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
