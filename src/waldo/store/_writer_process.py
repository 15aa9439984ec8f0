"""Journal batches written by a helper process, so the SQL work leaves the pipeline's GIL.

The batch writer's thread spends most of a batch in Python (building rows for the
driver, SQLAlchemy, the driver itself), holding the GIL the pipeline needs. A
:class:`WriterProcess` is a drop-in ``write(records, batch_id)`` that hands the pickled
batch to a child interpreter (running :func:`main` with the store URL) and waits
for its answer, which releases the GIL; on a machine with a second core the SQL runs
there.

The contract is exactly :meth:`waldo.store.Store.write`'s: the child calls it, so a
batch is written in one transaction with its exactly-once marker, and the child's
errors come back as the same :class:`~waldo.StoreUnavailable` / :class:`~waldo.StoreError`
(the batch writer then spools the batch, as before). If the child cannot be started,
is not ready yet, dies, or the caller is a forked copy of the process that started
it, the batch is written in this process instead, with the same batch id: a batch the
child committed before dying is recognised by its marker and not written twice.

A caller whose records are not table rows yet (the journal's compact node trails) names
a ``prepare`` function, ``"module:function"``, that the child imports and applies to each
batch before writing it; ``write_here`` must then do the same in process.

Set ``WALDO_WRITER_PROCESS=0`` to always write in process (the default on a machine, or
under an affinity mask, with a single CPU).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from waldo._errors import ConfigError, StoreError, StoreUnavailable
from waldo.store._bulk import Record

ENV_SWITCH = "WALDO_WRITER_PROCESS"
_HEADER = struct.Struct("!Q")
_READY = b"ready"
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])  # the folder holding waldo/
# The child imports this very copy of waldo (first on its path, in place of the current
# folder, which could shadow a module), then runs main().
_CHILD_CODE = (
    f"import sys; sys.path[0] = {_PACKAGE_ROOT!r}; "
    "from waldo.store._writer_process import main; raise SystemExit(main(sys.argv))"
)


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def enabled_by_env() -> bool:
    """Use a helper process unless switched off, or when there is no second CPU for it
    (on one CPU the child would only take time from the pipeline)."""
    if os.environ.get(ENV_SWITCH, "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    return _cpus() > 1


def _send(stream: IO[bytes], payload: bytes) -> None:
    # Unbuffered: a process forked while a batch is half sent must not inherit a
    # buffer that it could flush into the pipe later.
    data = memoryview(_HEADER.pack(len(payload)) + payload)
    while data:
        written = stream.write(data)
        if not written:
            raise OSError("the journal writer process stopped reading")
        data = data[written:]


def _read_exactly(stream: IO[bytes], size: int) -> bytes | None:
    chunks: list[bytes] = []
    while size:
        chunk = stream.read(size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _receive(stream: IO[bytes]) -> bytes | None:
    header = _read_exactly(stream, _HEADER.size)
    if header is None:
        return None
    (size,) = _HEADER.unpack(header)
    return _read_exactly(stream, size)


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
                self._child = subprocess.Popen(
                    [sys.executable, "-c", _CHILD_CODE],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    close_fds=True,
                    bufsize=0,
                    start_new_session=True,  # Ctrl-C is for the parent, which flushes
                )
                # The URL goes through the pipe, not argv: it may hold a password.
                assert self._child.stdin is not None
                _send(self._child.stdin, self._url.encode())
                _send(self._child.stdin, (self._prepare or "").encode())
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
            _send(child.stdin, pickle.dumps((records, batch_id), pickle.HIGHEST_PROTOCOL))
            answer = _receive(child.stdout)
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
                readable, _, _ = select.select([child.stdout], [], [], 0)
                if not readable or _receive(child.stdout) != _READY:
                    if readable:
                        self._give_up()
                    return None
            except (OSError, ValueError):
                self._give_up()
                return None
            self._ready = True
        return child

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
        """Let the child finish and exit (it stops at end of input)."""
        child, self._child = self._child, None
        if child is None or os.getpid() != self._pid:
            return
        for stream in (child.stdin, child.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            child.kill()


Prepare = Callable[[Sequence[Record]], Sequence[Record]]


def _load_prepare(spec: str) -> Prepare | None:
    """The ``module:function`` the parent named to turn its records into rows."""
    if not spec:
        return None
    module, _, name = spec.partition(":")
    prepare: Prepare = getattr(importlib.import_module(module), name)
    return prepare


def _answer(
    store: Any, prepare: Prepare | None, records: Sequence[Record], batch_id: str
) -> tuple[str, Any]:
    try:
        rows = prepare(records) if prepare is not None else records
        return "ok", store.write(rows, batch_id)
    except StoreUnavailable as exc:
        return "unavailable", str(exc)
    except (StoreError, ConfigError) as exc:  # ConfigError: e.g. no driver for the URL
        return "error", str(exc)
    except Exception as exc:  # the parent spools the batch and says why
        return "error", f"unexpected error writing the journal ({exc!r})"


def main(argv: list[str]) -> int:
    """The child: read the store URL, then batches on stdin; write each and answer on
    stdout; stop at end of input (the parent closed the pipe or exited)."""
    from waldo.store._store import Store

    inp = open(sys.stdin.fileno(), "rb", buffering=0, closefd=False)  # noqa: SIM115
    out = open(sys.stdout.fileno(), "wb", buffering=0, closefd=False)  # noqa: SIM115
    sys.stdout = sys.stderr  # nothing else may write to the answer channel
    url = _receive(inp)
    spec = _receive(inp)
    if url is None or spec is None:
        return 0
    store = Store(url.decode())
    prepare = _load_prepare(spec.decode())
    with contextlib.suppress(Exception):  # an error here comes back with the first batch
        store.ensure_schema()  # connect now, before the first batch arrives
    _send(out, _READY)
    while True:
        payload = _receive(inp)
        if payload is None:
            break
        records, batch_id = pickle.loads(payload)
        _send(out, pickle.dumps(_answer(store, prepare, records, batch_id)))
    store.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
