"""The writer's helper process: journal batches in on stdin, answers out on stdout.

Started by :class:`waldo.store.WriterProcess` with every recorded run, so its start-up
is part of what recording costs: it imports this module, the batch SQL and the driver,
never SQLAlchemy nor the packages' ``__init__`` modules (the parent starts it with bare
package objects, see ``_writer_process._CHILD_CODE``). Only a database whose schema is
not current makes it import the store to migrate, once.

The parent first sends its :class:`Setup` (pickled, through the pipe: the URL may hold
a password), then batches. For each batch the child answers ``("ok", written)``,
``("unavailable", message)`` (the parent spools the batch) or ``("error", message)``.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import struct
import sys
from collections.abc import Callable, Sequence
from typing import IO, Any, NamedTuple

from waldo._errors import ConfigError, StoreError, StoreUnavailable
from waldo.store._batch_sql import BatchPlans, Record, write_rows
from waldo.store._driver import (
    DriverTarget,
    begin,
    commit,
    connect,
    describe_problem,
    head_revision,
    is_unreachable,
    rollback,
    schema_revision,
)

HEADER = struct.Struct("!Q")
READY = b"ready"

Prepare = Callable[[Sequence[Record]], Sequence[Record]]


class Setup(NamedTuple):
    """What the parent tells the child before the first batch."""

    url: str  # for a migration, the one thing done through the store itself
    target: DriverTarget
    plans: BatchPlans
    prepare: str  # "module:function" applied to each batch first, or ""


def send(stream: IO[bytes], payload: bytes) -> None:
    """Write one length-prefixed message (unbuffered: a process forked while a batch is
    half sent must not inherit a buffer that it could flush into the pipe later)."""
    data = memoryview(HEADER.pack(len(payload)) + payload)
    while data:
        written = stream.write(data)
        if not written:
            raise OSError("the journal writer process stopped reading")
        data = data[written:]


class MessageReader:
    """Reads length-prefixed messages (:func:`send`) from a pipe in as few reads as it
    can: one for a small message, whose header and body arrive together. The parent's
    writer thread gives the GIL away at every read, and the pipeline's thread then
    waits to take it back. (A pipe hands over at most its buffer, 64 KiB, per read.)"""

    def __init__(self, stream: IO[bytes]) -> None:
        self._fd = stream.fileno()
        self._buffer = bytearray()

    @property
    def buffered(self) -> bool:
        """A message (or part of one) was read already: ``select`` would not see it."""
        return bool(self._buffer)

    def receive(self) -> bytes | None:
        """The next message; None at end of input."""
        buffer = self._buffer
        while True:
            if len(buffer) >= HEADER.size:
                (size,) = HEADER.unpack_from(buffer)
                end = HEADER.size + size
                if len(buffer) >= end:
                    message = bytes(buffer[HEADER.size : end])
                    del buffer[:end]
                    return message
            chunk = os.read(self._fd, 65536)
            if not chunk:
                return None
            buffer += chunk


def _load_prepare(spec: str) -> Prepare | None:
    """The ``module:function`` the parent named to turn its records into rows."""
    if not spec:
        return None
    module, _, name = spec.partition(":")
    prepare: Prepare = getattr(importlib.import_module(module), name)
    return prepare


class DirectWriter:
    """Writes batches through one driver connection, each in its own transaction."""

    def __init__(self, setup: Setup) -> None:
        self.setup = setup
        self._dialect = setup.target.dialect
        self._connection: Any = None
        self._schema_checked = False

    def _connect(self) -> Any:
        if self._connection is None:
            self._connection = connect(self.setup.target)
        if not self._schema_checked:
            connection = self._connection
            revision = schema_revision(connection, self._dialect, self.setup.plans.pg_schema)
            rollback(connection, self._dialect)  # end the check's transaction
            if revision != head_revision():
                self._migrate()
            self._schema_checked = True
        return self._connection

    def _migrate(self) -> None:
        """Create or upgrade the tables the way every process does (Alembic, under the
        store's lock): the one time the child imports the store and SQLAlchemy."""
        from waldo.store._store import Store

        store = Store(self.setup.url)
        try:
            store.ensure_schema()
        finally:
            store.dispose()

    def prepare(self) -> None:
        """Connect (and check the schema) before the first batch; a failure here comes
        back with that batch."""
        with contextlib.suppress(Exception):
            self._connect()

    def write(self, records: Sequence[Record], batch_id: str) -> tuple[str, Any]:
        reused = self._connection is not None
        try:
            return "ok", self._write_once(records, batch_id)
        except Exception as exc:
            self._after_failure(exc)
            if not (reused and is_unreachable(exc)):
                return self._problem(exc)
        # The connection had gone stale between batches (a restarted server): one more
        # try on a new one. Nothing was committed, and the marker keeps it single anyway.
        try:
            return "ok", self._write_once(records, batch_id)
        except Exception as exc:
            self._after_failure(exc)
            return self._problem(exc)

    def _problem(self, exc: Exception) -> tuple[str, str]:
        if isinstance(exc, StoreUnavailable):  # from a migration, through the store
            return "unavailable", str(exc)
        if isinstance(exc, (StoreError, ConfigError)):
            return "error", str(exc)
        return describe_problem(exc, self.setup.target.where)

    def _write_once(self, records: Sequence[Record], batch_id: str) -> bool:
        connection = self._connect()
        begin(connection, self._dialect)
        written = write_rows(connection, self._dialect, self.setup.plans, records, batch_id)
        commit(connection, self._dialect)
        return written

    def _after_failure(self, exc: BaseException) -> None:
        """Roll the failed batch back; a lost connection, or one that cannot even roll
        back, is closed and the next batch opens a new one."""
        if self._connection is None:
            return
        if not is_unreachable(exc):
            try:
                rollback(self._connection, self._dialect)
                return
            except Exception:
                pass
        self.close()

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None


def main(argv: list[str]) -> int:
    """Read the setup, then batches on stdin; write each and answer on stdout; stop at
    end of input (the parent closed the pipe or exited)."""
    inp = open(sys.stdin.fileno(), "rb", buffering=0, closefd=False)  # noqa: SIM115
    out = open(sys.stdout.fileno(), "wb", buffering=0, closefd=False)  # noqa: SIM115
    sys.stdout = sys.stderr  # nothing else may write to the answer channel
    batches = MessageReader(inp)
    payload = batches.receive()
    if payload is None:
        return 0
    setup: Setup = pickle.loads(payload)
    prepare = _load_prepare(setup.prepare)
    writer = DirectWriter(setup)
    writer.prepare()
    send(out, READY)
    while True:
        payload = batches.receive()
        if payload is None:
            break
        records, batch_id = pickle.loads(payload)
        try:
            rows = prepare(records) if prepare is not None else records
        except Exception as exc:  # the parent spools the batch and says why
            answer: tuple[str, Any] = ("error", f"unexpected error writing the journal ({exc!r})")
        else:
            answer = writer.write(rows, batch_id)
        send(out, pickle.dumps(answer))
    writer.close()
    return 0
