"""Content fingerprints of files, with a stat cache so unchanged files are not re-read.

Pure: no database, no Kedro. The DPO commands use it for a step's model files and the
data fingerprints reuse it for dataset files.

- **Digest.** ``xxh3_128`` of the file's bytes (32 hex characters), read in 1 MiB
  chunks so a file of any size costs constant memory. It is a non-cryptographic hash:
  it detects changes, it does not defend against someone forging a collision (nobody
  gains anything by hiding a change from their own pipeline). It is several times
  faster than SHA-256, which matters once the stat cache misses. :data:`ALGORITHM` names
  it, and is stored next to every digest so that a future change of algorithm shows as
  "changed" rather than silently comparing unlike digests.
- **Patterns.** Unix-style globs relative to a base folder, ``**`` matching any number
  of folders (``**/*.sql``, ``group1/*.csv``, ``./load/**/*.json``). As in the shell,
  ``*`` does not match names starting with a dot, so ``.git`` and ``.waldo`` are left
  alone. Only regular files (or symlinks to them) are fingerprinted; a pattern may not
  leave the base folder (absolute patterns and ``..`` are refused).
- **Stat cache.** A small SQLite file (stdlib ``sqlite3``, path chosen by the caller,
  e.g. ``.waldo/statcache.db``) mapping a file's absolute path and its
  ``(size, mtime_ns, ctime_ns, inode, device)`` to its digest. If the stat is identical
  the digest is reused without reading the file. A digest is only trusted when the file
  was last modified at least :data:`RACY_SECONDS` before it was hashed (as git does
  with its index): a file rewritten in the same clock tick as it was hashed keeps its
  mtime, so such "racy" entries are hashed again next time. The cache is an
  optimisation only: if it cannot be opened or written, files are simply read.
"""

from __future__ import annotations

import fnmatch
import os
import sqlite3
import stat as stat_mod
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import NamedTuple

import xxhash

from waldo._errors import InvalidInput

ALGORITHM = "xxh3_128"
CHUNK_SIZE = 1 << 20
RACY_SECONDS = 2.0
_RACY_NS = int(RACY_SECONDS * 1e9)


class FileFingerprint(NamedTuple):
    """One file's fingerprint: its path relative to the base folder and its digest.

    A named tuple rather than a dataclass: a re-status builds one per file, and tuples
    are several times cheaper to create.
    """

    relative_path: str
    size: int
    mtime_ns: int
    digest: str
    algorithm: str = ALGORITHM

    @property
    def stem(self) -> str:
        """The file name without its last extension (``models/orders.sql`` -> ``orders``)."""
        name = self.relative_path.rpartition("/")[2]
        stem, dot, _ = name.rpartition(".")
        return stem if dot and stem else name


def _read_digest(path: str | os.PathLike[str]) -> tuple[str, os.stat_result]:
    """The digest of a file and its stat taken (on the open file) after reading it."""
    with open(path, "rb", buffering=0) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size < CHUNK_SIZE:  # one read, one allocation of the file's size
            data = handle.read()
            hasher = xxhash.xxh3_128(data)
            if len(data) == size:
                return hasher.hexdigest(), os.fstat(handle.fileno())
        else:
            hasher = xxhash.xxh3_128()
        buffer = bytearray(CHUNK_SIZE)
        view = memoryview(buffer)
        while True:
            count = handle.readinto(buffer)
            if not count:
                break
            hasher.update(view[:count])
        return hasher.hexdigest(), os.fstat(handle.fileno())


def file_digest(path: str | os.PathLike[str]) -> str:
    """The :data:`ALGORITHM` digest (hex) of a file's content, streamed in 1 MiB chunks."""
    return _read_digest(path)[0]


def _stat_key(st: os.stat_result) -> tuple[int, int, int, int, int]:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


class StatCache:
    """Digests of files keyed by their stat, in a local SQLite file (see module doc).

    Use as a context manager, or call :meth:`close` to write what was learnt. Entries
    are buffered and written in one transaction at close (or every ``flush_every``).
    ``hits`` and ``misses`` count lookups, for logs and benchmarks.
    """

    def __init__(self, path: str | os.PathLike[str], *, flush_every: int = 5000) -> None:
        self.path = Path(path)
        self.flush_every = flush_every
        self.hits = 0
        self.misses = 0
        self._pending: list[tuple[object, ...]] = []
        self._loaded: dict[str, tuple[object, ...]] = {}
        self._preloaded: list[str] = []
        self._db: sqlite3.Connection | None = None
        db: sqlite3.Connection | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS stat_cache ("
                " path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, ctime_ns INTEGER,"
                " inode INTEGER, device INTEGER, algorithm TEXT, digest TEXT,"
                " hashed_at_ns INTEGER)"
            )
            self._db = db
        except (sqlite3.Error, OSError):
            if db is not None:
                db.close()
            self._db = None  # no cache: every file is read

    def __enter__(self) -> StatCache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def enabled(self) -> bool:
        return self._db is not None

    def preload(self, folder: str) -> None:
        """Read every entry under ``folder`` in one query (lookups then hit memory)."""
        if self._db is None:
            return
        prefix = folder.rstrip(os.sep) + os.sep
        try:
            rows = self._db.execute(
                "SELECT path, size, mtime_ns, ctime_ns, inode, device, algorithm, digest,"
                " hashed_at_ns FROM stat_cache WHERE path >= ? AND path < ?",
                (prefix, prefix[:-1] + chr(ord(os.sep) + 1)),
            ).fetchall()
        except sqlite3.Error:
            return
        for row in rows:
            self._loaded[row[0]] = (tuple(row[1:6]), row[6], row[7], row[8])
        self._preloaded.append(prefix)

    def lookup(self, path: str, st: os.stat_result) -> str | None:
        """The cached digest of ``path`` if its stat is unchanged and not racy."""
        if self._db is None:
            self.misses += 1
            return None
        row: tuple[object, ...] | None = self._loaded.get(path)
        if row is None and not any(path.startswith(prefix) for prefix in self._preloaded):
            try:
                found = self._db.execute(
                    "SELECT size, mtime_ns, ctime_ns, inode, device, algorithm, digest,"
                    " hashed_at_ns FROM stat_cache WHERE path = ?",
                    (path,),
                ).fetchone()
            except sqlite3.Error:
                found = None
            row = (tuple(found[:5]), found[5], found[6], found[7]) if found else None
        # row: (stat key, algorithm, digest, hashed_at_ns)
        if (
            row is not None
            and row[0] == _stat_key(st)
            and row[1] == ALGORITHM
            and st.st_mtime_ns + _RACY_NS <= row[3]  # type: ignore[operator]
        ):
            self.hits += 1
            return str(row[2])
        self.misses += 1
        return None

    def store(self, path: str, st: os.stat_result, digest: str, hashed_at_ns: int) -> None:
        if self._db is None:
            return
        self._pending.append((path, *_stat_key(st), ALGORITHM, digest, hashed_at_ns))
        if len(self._pending) >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        if self._db is None or not self._pending:
            self._pending.clear()
            return
        rows, self._pending = self._pending, []
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT OR REPLACE INTO stat_cache VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
            )
            self._db.execute("COMMIT")
        except sqlite3.Error:
            with suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")

    def close(self) -> None:
        self.flush()
        if self._db is not None:
            with suppress(sqlite3.Error):
                self._db.close()
            self._db = None


def _fingerprint(path: str, st: os.stat_result, cache: StatCache | None) -> str:
    if cache is not None:
        cached = cache.lookup(path, st)
        if cached is not None:
            return cached
    hashed_at = time.time_ns()
    digest, after = _read_digest(path)
    if cache is not None and _stat_key(after) == _stat_key(st):  # unmodified while read
        cache.store(path, st, digest, hashed_at)
    return digest


def fingerprint_file(path: str | os.PathLike[str], cache: StatCache | None = None) -> str:
    """The digest of one file, from the stat cache when the file is unchanged."""
    absolute = os.path.abspath(path)
    try:
        st = os.stat(absolute)
    except OSError as exc:
        raise InvalidInput(f"Cannot read {absolute}: {exc.strerror or exc}.") from exc
    if not stat_mod.S_ISREG(st.st_mode):
        raise InvalidInput(f"{absolute} is not a regular file.")
    return _fingerprint(absolute, st, cache)


def _check_pattern(pattern: str) -> str:
    text = pattern.strip().replace("\\", "/")
    while text.startswith("./"):
        text = text[2:]
    if not text:
        raise InvalidInput(f"The pattern {pattern!r} is empty.")
    if text.startswith("/") or (len(text) > 1 and text[1] == ":"):
        raise InvalidInput(
            f"The pattern {pattern!r} is absolute; patterns are relative to the base path."
        )
    segments = [part for part in text.split("/") if part not in ("", ".")]
    if ".." in segments:
        raise InvalidInput(f"The pattern {pattern!r} leaves the base path ('..').")
    if not segments:
        raise InvalidInput(f"The pattern {pattern!r} names no file.")
    return "/".join(segments)


def _check_base(base: str | os.PathLike[str]) -> str:
    absolute = os.path.abspath(base)
    if not os.path.isdir(absolute):
        what = "does not exist" if not os.path.exists(absolute) else "is not a folder"
        raise InvalidInput(f"The base path {base} {what}.")
    return absolute


_MAGIC = frozenset("*?[")


def _is_magic(segment: str) -> bool:
    return any(c in _MAGIC for c in segment)


def _match_segment(name: str, segment: str) -> bool:
    if name.startswith(".") and not segment.startswith("."):
        return False  # as in the shell: wildcards do not match a leading dot
    return fnmatch.fnmatchcase(name, segment)


def _match(parts: Sequence[str], segments: Sequence[str]) -> bool:
    """Whether a relative path (as parts) matches a pattern (as segments)."""
    if not segments:
        return not parts
    head = segments[0]
    if head == "**":
        if _match(parts, segments[1:]):
            return True
        return bool(parts) and not parts[0].startswith(".") and _match(parts[1:], segments)
    return bool(parts) and _match_segment(parts[0], head) and _match(parts[1:], segments[1:])


@dataclass(frozen=True)
class _Pattern:
    segments: tuple[str, ...]

    @property
    def start(self) -> tuple[str, ...]:
        """The literal folders the pattern starts with: where to walk from."""
        literal: list[str] = []
        for segment in self.segments[:-1]:
            if _is_magic(segment) or segment == "**":
                break
            literal.append(segment)
        return tuple(literal)

    @property
    def recursive(self) -> bool:
        return "**" in self.segments

    @property
    def hidden(self) -> bool:
        return any(segment.startswith(".") for segment in self.segments)


def _walk(root: str, start: tuple[str, ...], patterns: Sequence[_Pattern], found: set[str]) -> None:
    top = os.path.join(root, *start)
    if not os.path.isdir(top):
        return
    max_depth = (
        None
        if any(p.recursive for p in patterns)
        else max(len(p.segments) - len(start) - 1 for p in patterns)
    )
    keep_hidden = any(p.hidden for p in patterns)
    for dirpath, dirnames, filenames in os.walk(top):
        relative_dir = os.path.relpath(dirpath, root)
        parts = () if relative_dir == "." else tuple(relative_dir.split(os.sep))
        if not keep_hidden:
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        if max_depth is not None and len(parts) - len(start) >= max_depth:
            dirnames[:] = []
        for name in filenames:
            path = (*parts, name)
            if any(_match(path, p.segments) for p in patterns):
                found.add("/".join(path))


def expand_patterns(base: str | os.PathLike[str], patterns: Iterable[str]) -> list[str]:
    """Files under ``base`` matched by any of ``patterns``: sorted, relative, POSIX."""
    root = _check_base(base)
    checked = [_Pattern(tuple(_check_pattern(p).split("/"))) for p in patterns]
    if not checked:
        raise InvalidInput("Give at least one file pattern, e.g. '**/*.sql'.")
    found: set[str] = set()
    # walk each folder once: starts inside another start are covered by its walk
    starts = sorted({p.start for p in checked}, key=len)
    walks: dict[tuple[str, ...], list[_Pattern]] = {}
    for start in starts:
        outer = next((w for w in walks if start[: len(w)] == w), None)
        walks.setdefault(start if outer is None else outer, [])
    for pattern in checked:
        outer = next(w for w in walks if pattern.start[: len(w)] == w)
        walks[outer].append(pattern)
    for start, group in walks.items():
        _walk(root, start, group, found)
    return sorted(found)


def _iter_fingerprints(
    root: str, relative_paths: Sequence[str], cache: StatCache | None
) -> Iterator[FileFingerprint]:
    for relative in relative_paths:
        absolute = os.path.join(root, relative)
        try:
            st = os.stat(absolute)
        except FileNotFoundError:
            continue  # a broken symlink, or removed since the walk
        except OSError as exc:
            raise InvalidInput(f"Cannot read {absolute}: {exc.strerror or exc}.") from exc
        if not stat_mod.S_ISREG(st.st_mode):
            continue  # a fifo, socket or device is not a model
        try:
            digest = _fingerprint(absolute, st, cache)
        except OSError as exc:
            raise InvalidInput(f"Cannot read {absolute}: {exc.strerror or exc}.") from exc
        yield FileFingerprint(relative, st.st_size, st.st_mtime_ns, digest)


def fingerprint_glob(
    base: str | os.PathLike[str],
    patterns: Iterable[str],
    cache: StatCache | None = None,
) -> dict[str, FileFingerprint]:
    """Fingerprints of the files under ``base`` matching ``patterns``, by relative path."""
    root = _check_base(base)
    relative_paths = expand_patterns(root, patterns)
    if cache is not None:
        cache.preload(root)
    return {fp.relative_path: fp for fp in _iter_fingerprints(root, relative_paths, cache)}


def _scan_tree(root: str) -> Iterator[tuple[str, str, os.stat_result]]:
    """(relative, absolute, stat) of every non-hidden regular file under ``root``.

    The same files as the pattern ``**/*`` (hidden files and folders skipped, folder
    symlinks not followed), in one ``os.scandir`` pass that also yields each file's
    stat: a re-status of an unchanged tree reads no file and walks it only once.
    """
    stack = [("", root)]
    while stack:
        relative_dir, folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            raise InvalidInput(f"Cannot read {folder}: {exc.strerror or exc}.") from exc
        for entry in entries:
            if entry.name.startswith("."):
                continue
            relative = f"{relative_dir}/{entry.name}" if relative_dir else entry.name
            if entry.is_dir(follow_symlinks=False):
                stack.append((relative, entry.path))
                continue
            try:
                st = entry.stat()
            except FileNotFoundError:
                continue  # a broken symlink, or removed meanwhile
            except OSError as exc:
                raise InvalidInput(f"Cannot read {entry.path}: {exc.strerror or exc}.") from exc
            if stat_mod.S_ISREG(st.st_mode):
                yield relative, entry.path, st


def fingerprint_tree(
    base: str | os.PathLike[str], cache: StatCache | None = None
) -> dict[str, FileFingerprint]:
    """Fingerprints of every (non-hidden) file under ``base``, by relative path."""
    root = _check_base(base)
    if cache is not None:
        cache.preload(root)
    found: dict[str, FileFingerprint] = {}
    for relative, absolute, st in sorted(_scan_tree(root)):
        try:
            digest = _fingerprint(absolute, st, cache)
        except OSError as exc:
            raise InvalidInput(f"Cannot read {absolute}: {exc.strerror or exc}.") from exc
        found[relative] = FileFingerprint(relative, st.st_size, st.st_mtime_ns, digest)
    return found
