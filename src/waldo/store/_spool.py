"""The local spool: rows that could not reach the database wait here as JSON lines.

Each process appends to its own file (``<store>-<host>-<pid>-<token>.jsonl``, where
``<store>`` is a short hash of the store URL the rows were meant for, so a replay never
writes them into another store) under an exclusive ``flock``.

Replaying claims a file by renaming it to ``<file>.replaying-<token>`` and holding an
exclusive ``flock`` on it until the file is written and deleted: the claim is the lock,
which the OS releases when its holder dies, so a claimed file whose lock is free is
taken over by the next replay (``waldo sync`` or the next run). A writer that finds its
file was claimed while it waited for the lock simply opens a new one, so no append can
land in a deleted file.

A line that cannot be parsed is moved to ``<file>.corrupt`` (mode 0600, like the spool)
with a warning, never silently dropped. A replay with ``retry_corrupt`` (``waldo sync``)
reads those files again: the lines that now parse (a user repaired them) are written as
batches of their own, named after their content, so that each is written once although
the rest of their original batch was written before; the others stay set aside.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from waldo._errors import SpoolError
from waldo.store._bulk import Record

log = logging.getLogger("waldo")

_CLAIM = ".replaying-"
_CORRUPT = ".corrupt"
_MODE = 0o600


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    raise TypeError(f"cannot spool {type(value).__name__}")


def _decode(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and "$dt" in obj:
        return datetime.fromisoformat(obj["$dt"])
    return obj


def encode_record(record: Record, batch_id: str) -> str:
    table, row = record
    return json.dumps({"b": batch_id, "t": table, "r": row}, default=_encode, separators=(",", ":"))


def decode_record(line: str) -> tuple[str, Record]:
    """Parse one spool line into (batch id, record); ValueError when it is corrupt."""
    data = json.loads(line, object_hook=_decode)
    if not isinstance(data, dict) or not isinstance(data.get("t"), str):
        raise ValueError("not a spooled record")
    batch_id = data.get("b")
    if not isinstance(batch_id, str):
        raise ValueError("spooled record has no batch id")
    row = data.get("r")
    if isinstance(row, list):
        return batch_id, (data["t"], tuple(row))
    if not isinstance(row, dict):
        raise ValueError("spooled record has no row")
    return batch_id, (data["t"], row)


BatchWrite = Callable[[Sequence[Record], str], object]


@dataclass
class ReplayReport:
    """What one replay did.

    ``records`` rows were read from ``files`` files and sent to the store: ``written``
    of them were written now, ``already`` were in batches the store had written before
    (the exactly-once marker), ``repaired`` of them came from ``.corrupt`` files.
    ``corrupt_lines`` lines could not be parsed and wait in ``.corrupt`` files.
    """

    files: int = 0
    records: int = 0
    written: int = 0
    already: int = 0
    repaired: int = 0
    corrupt_lines: int = 0
    failed_files: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def store_key(url: str) -> str:
    """A short, secret-free name for the store a spooled row belongs to."""
    return hashlib.sha256(url.encode()).hexdigest()[:10]


def _base_name(path: Path) -> str:
    """The file's name before any claim: ``x.jsonl`` or ``x.jsonl.corrupt``."""
    return path.name.split(_CLAIM)[0]


def _corrupt_name(base: str) -> str:
    return base if base.endswith(_CORRUPT) else base + _CORRUPT


def _repaired_batch_id(batch_id: str, lines: Sequence[bytes]) -> str:
    """A batch id of its own for repaired lines, the same for the same lines."""
    digest = hashlib.sha256(batch_id.encode() + b"\n" + b"\n".join(lines))
    return digest.hexdigest()[:32]


def _lock_is_free(path: Path) -> bool:
    """Whether no process holds the claim (the flock) on this file."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing releases the probe's lock
    return True


class Spool:
    """A folder of JSON-lines files holding rows not yet written to the store.

    With a ``store`` key, the spool only writes and replays that store's files; without
    one (inspection, tests) it sees every file in the folder.
    """

    def __init__(self, directory: Path, store: str | None = None) -> None:
        self.directory = Path(directory)
        self.store = store
        self._token = uuid.uuid4().hex[:8]
        self._pid = os.getpid()
        self._own: Path | None = None
        # The process that last appended to its own file: only then can that file
        # exist (its name has a random token), so the writer, which asks before every
        # batch, makes no system call to learn that it does not.
        self._appended_in: int | None = None

    @property
    def own_file(self) -> Path:
        """This process's spool file; asked before every batch the writer sends, so
        its name (host, pid, token) is built once per process."""
        if os.getpid() != self._pid:  # forked child: never share the parent's file
            self._pid = os.getpid()
            self._token = uuid.uuid4().hex[:8]
            self._own = None
        if self._own is None:
            prefix = f"{self.store}-" if self.store else ""
            name = f"{prefix}{socket.gethostname()}-{self._pid}-{self._token}.jsonl"
            self._own = self.directory / name
        return self._own

    def append(self, records: Sequence[Record], batch_id: str) -> None:
        """Durably append one batch to this process's spool file."""
        if not records:
            return
        payload = "".join(encode_record(r, batch_id) + "\n" for r in records).encode()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            while True:
                path = self.own_file
                fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, _MODE)
                try:
                    if not _lock_while_at(fd, path) or os.fstat(fd).st_nlink == 0:
                        continue  # claimed by a replay meanwhile: use a new file
                    os.write(fd, payload)
                    os.fsync(fd)
                    self._appended_in = self._pid
                    return
                finally:
                    os.close(fd)
        except OSError as exc:
            raise SpoolError(
                f"Cannot write the Waldo spool in {self.directory}: {exc.strerror or exc}; "
                f"{len(records)} journal rows are lost"
            ) from exc

    def _files(self, suffix: str) -> list[Path]:
        """Files ending in ``suffix``, and those claimed by a replay that died."""
        if not self.directory.is_dir():
            return []
        prefix = f"{self.store}-" if self.store else ""
        files = sorted(self.directory.glob(f"{prefix}*{suffix}"))
        abandoned = self.directory.glob(f"{prefix}*{suffix}{_CLAIM}*")
        return files + sorted(p for p in abandoned if _lock_is_free(p))

    def pending_files(self) -> list[Path]:
        return self._files(".jsonl")

    def corrupt_files(self) -> list[Path]:
        """Files of lines set aside as corrupt, which ``retry_corrupt`` reads again."""
        return self._files(".jsonl" + _CORRUPT)

    def has_pending(self, own_only: bool = False) -> bool:
        if own_only:
            return self._appended_in == os.getpid() and self.own_file.exists()
        return bool(self.pending_files())

    def count_pending_records(self) -> int:
        return _count_lines(self.pending_files())

    def count_corrupt_lines(self) -> int:
        return _count_lines(self.corrupt_files())

    def replay(
        self, write: BatchWrite, *, own_only: bool = False, retry_corrupt: bool = False
    ) -> ReplayReport:
        """Write every spooled batch through ``write(records, batch_id)``, which returns
        False for a batch the store had written before.

        Files are deleted once all their batches are written; a batch written before
        (its marker exists) is skipped by the store, so replaying twice is harmless.
        With ``retry_corrupt``, the lines of ``.corrupt`` files that now parse are
        written too.
        """
        report = ReplayReport()
        files = [self.own_file] if own_only else self.pending_files()
        if retry_corrupt and not own_only:
            files += self.corrupt_files()
        for path in files:
            with self._claim(path) as claimed:
                if claimed is not None:
                    self._replay_file(path, claimed, write, report)
        return report

    def _replay_file(
        self, path: Path, claimed: _Claimed, write: BatchWrite, report: ReplayReport
    ) -> None:
        base = _base_name(path)
        repairing = base.endswith(_CORRUPT)
        batches, corrupt = _parse(claimed.lines)
        if repairing:  # the rest of their batches may have been written long ago
            batches = {
                _repaired_batch_id(b, [line for line, _ in rows]): rows
                for b, rows in batches.items()
            }
        written = already = 0
        try:
            for batch_id, rows in batches.items():
                records = [record for _, record in rows]
                if write(records, batch_id) is False:
                    already += len(records)
                else:
                    written += len(records)
        except Exception as exc:  # the store is still down: keep the file as it was
            report.written += written
            report.already += already
            report.failed_files.append(base)
            report.errors.append(str(exc).splitlines()[0] if str(exc) else repr(exc))
            claimed.release_to(path.with_name(base))
            return
        if corrupt:
            self._set_aside(base, corrupt, announce=not repairing)
        claimed.done()
        report.files += 1
        report.records += written + already
        report.written += written
        report.already += already
        report.corrupt_lines += len(corrupt)
        if repairing:
            report.repaired += written + already

    def _set_aside(self, base: str, corrupt: list[tuple[int, bytes]], *, announce: bool) -> None:
        target = self.directory / _corrupt_name(base)
        known: set[bytes] = set()
        if target.exists():  # a replay that died after setting them aside: once is enough
            known = set(target.read_bytes().splitlines())
        fresh = [line for _, line in corrupt if line not in known]
        if fresh:
            fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, _MODE)
            try:
                os.write(fd, b"\n".join(fresh) + b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)
        for number, _ in corrupt if announce else ():
            log.warning(
                "waldo: line %d of spool file %s is corrupt; kept in %s",
                number,
                base,
                target.name,
            )

    @contextmanager
    def _claim(self, path: Path) -> Iterator[_Claimed | None]:
        """Rename ``path`` to a claim of this replay and hold its lock; None when
        another replay holds it or it is gone."""
        base = _base_name(path)
        claimed = path.with_name(f"{base}{_CLAIM}{uuid.uuid4().hex[:12]}")
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            yield None
            return
        try:
            if _CLAIM in path.name:  # abandoned by a replay that died, unless locked
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    yield None
                    return
            try:
                os.rename(path, claimed)
            except FileNotFoundError:
                yield None
                return
            fcntl.flock(fd, fcntl.LOCK_EX)  # waits for an append in progress
            if os.fstat(fd).st_nlink == 0 or not _same_file(fd, claimed):
                yield None  # another replay took it over and finished meanwhile
                return
            with open(fd, "rb", closefd=False) as handle:
                lines = handle.read().splitlines()
            yield _Claimed(claimed, lines)
        finally:
            os.close(fd)  # releases the claim


@dataclass
class _Claimed:
    """A spool file this replay holds the lock of, and the lines it read."""

    path: Path
    lines: list[bytes]

    def done(self) -> None:
        self.path.unlink(missing_ok=True)

    def release_to(self, original: Path) -> None:
        """Give the file its name back, for the next replay."""
        target = original
        if target.exists():  # the owner started a new file meanwhile: keep both
            stem, dot, suffix = original.name.partition(".jsonl")
            target = original.with_name(f"{stem}-{uuid.uuid4().hex[:6]}{dot}{suffix}")
        os.rename(self.path, target)


def _parse(
    lines: list[bytes],
) -> tuple[dict[str, list[tuple[bytes, Record]]], list[tuple[int, bytes]]]:
    """Lines grouped by batch id (each with its record), and the corrupt ones numbered."""
    batches: dict[str, list[tuple[bytes, Record]]] = {}
    corrupt: list[tuple[int, bytes]] = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            batch_id, record = decode_record(raw.decode())
        except (ValueError, UnicodeDecodeError):
            corrupt.append((number, raw))
            continue
        batches.setdefault(batch_id, []).append((raw, record))
    return batches, corrupt


def _count_lines(paths: Sequence[Path]) -> int:
    total = 0
    for path in paths:
        try:
            with open(path, "rb") as handle:
                total += sum(1 for line in handle if line.strip())
        except FileNotFoundError:
            continue  # replayed meanwhile
    return total


def _lock_while_at(fd: int, path: Path) -> bool:
    """Lock an appender's file; False when a replay renamed it meanwhile.

    A replay holds its lock for as long as it writes to the store, so an appender never
    waits on it: only another append holds the lock of a file still at ``path``.
    """
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return _same_file(fd, path)
        except BlockingIOError:
            if not _same_file(fd, path):
                return False
            time.sleep(0.001)


def _same_file(fd: int, path: Path) -> bool:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    fst = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (fst.st_dev, fst.st_ino)
