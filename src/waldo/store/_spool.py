"""The local spool: rows that could not reach the database wait here as JSON lines.

Each process appends to its own file (``<store>-<host>-<pid>-<token>.jsonl``, where
``<store>`` is a short hash of the store URL the rows were meant for, so a replay never
writes them into another store) under an exclusive
``flock``. Replaying first renames a file to claim it, takes the same lock (so a write in
progress finishes first), writes every row through the exactly-once bulk writer and only
then deletes the file. A line that cannot be parsed is moved to ``<file>.corrupt`` with a
warning, never silently dropped. A writer that finds its file was claimed while it
waited for the lock simply opens a new one, so no append can land in a deleted file.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from waldo._errors import SpoolError
from waldo.store._bulk import Record

log = logging.getLogger("waldo")

_CLAIM = ".replaying-"


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
    """What one replay did: files and rows written, corrupt lines set aside, failures."""

    files: int = 0
    records: int = 0
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
                fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                    if os.fstat(fd).st_nlink == 0 or not _same_file(fd, path):
                        continue  # claimed by a replay while we waited: use a new file
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

    def pending_files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        prefix = f"{self.store}-" if self.store else ""
        files = sorted(self.directory.glob(f"{prefix}*.jsonl"))
        for claimed in self.directory.glob(f"{prefix}*.jsonl{_CLAIM}*"):
            owner = claimed.name.rsplit(_CLAIM, 1)[1]
            if owner.isdigit() and not pid_alive(int(owner)):
                files.append(claimed)  # a replay that died: take it over
        return files

    def has_pending(self, own_only: bool = False) -> bool:
        if own_only:
            return self._appended_in == os.getpid() and self.own_file.exists()
        return bool(self.pending_files())

    def count_pending_records(self) -> int:
        total = 0
        for path in self.pending_files():
            with open(path, "rb") as handle:
                total += sum(1 for line in handle if line.strip())
        return total

    def replay(self, write: BatchWrite, *, own_only: bool = False) -> ReplayReport:
        """Write every spooled batch through ``write(records, batch_id)``.

        Files are deleted once all their batches are written; a batch written before
        (its marker exists) is skipped by the store, so replaying twice is harmless.
        """
        report = ReplayReport()
        files = [self.own_file] if own_only else self.pending_files()
        for path in files:
            claimed = self._claim(path)
            if claimed is None:
                continue
            try:
                count = 0
                for batch_id, batch in self._read_batches(claimed, report):
                    write(batch, batch_id)
                    count += len(batch)
            except Exception as exc:  # the store is still down: keep the file
                report.failed_files.append(path.name)
                report.errors.append(str(exc).splitlines()[0] if str(exc) else repr(exc))
                self._unclaim(claimed, path)
                continue
            report.files += 1
            report.records += count
            claimed.unlink(missing_ok=True)
        return report

    def _claim(self, path: Path) -> Path | None:
        base = path.name.split(_CLAIM)[0]
        claimed = path.with_name(f"{base}{_CLAIM}{os.getpid()}")
        try:
            os.rename(path, claimed)
        except FileNotFoundError:
            return None
        return claimed

    def _unclaim(self, claimed: Path, original: Path) -> None:
        base = original.name.split(_CLAIM)[0]
        target = original.with_name(base)
        if target.exists():  # the owner started a new file meanwhile: keep both
            target = original.with_name(f"{base[:-6]}-{uuid.uuid4().hex[:6]}.jsonl")
        os.rename(claimed, target)

    def _read_batches(self, path: Path, report: ReplayReport) -> Iterator[tuple[str, list[Record]]]:
        with open(path, "rb") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # wait for an append in progress
            lines = handle.read().splitlines()
        batches: dict[str, list[Record]] = {}
        corrupt: list[bytes] = []
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                batch_id, record = decode_record(raw.decode())
                batches.setdefault(batch_id, []).append(record)
            except (ValueError, UnicodeDecodeError) as exc:
                corrupt.append(raw)
                log.warning(
                    "waldo: line %d of spool file %s is corrupt (%s); kept in %s.corrupt",
                    number,
                    path.name.split(_CLAIM)[0],
                    exc,
                    path.name.split(_CLAIM)[0],
                )
        if corrupt:
            report.corrupt_lines += len(corrupt)
            target = path.with_name(path.name.split(_CLAIM)[0] + ".corrupt")
            with open(target, "ab") as out:
                out.write(b"\n".join(corrupt) + b"\n")
        yield from batches.items()


def _same_file(fd: int, path: Path) -> bool:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    fst = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (fst.st_dev, fst.st_ino)
