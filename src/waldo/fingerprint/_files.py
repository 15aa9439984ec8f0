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
- **Folder manifests.** A re-status of a folder must still ``stat`` every file (a file
  rewritten in place changes its own mtime, not its folder's), but it need not look
  each one up: :func:`fingerprint_tree` keeps, per folder, one row holding every file's
  stat key and digest (``marshal``-encoded), loads it in one read, compares in memory,
  and writes it back only when something changed. On 10,000 unchanged files that is
  one row instead of 10,000, and the pass costs little more than the stat calls.
"""

from __future__ import annotations

import fnmatch
import marshal
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
from waldo.fingerprint._content import content_digest

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


StatKey = tuple[int, int, int, int, int]
"""What the cache compares: (size, mtime_ns, ctime_ns, inode, device)."""


def settled(mtime_ns: int, at_ns: int) -> bool:
    """The racy rule: something read at ``at_ns`` from a file last modified at
    ``mtime_ns`` may be reused only if the file had not been modified within
    :data:`RACY_SECONDS` before (a write in the same clock tick keeps the mtime)."""
    return mtime_ns + _RACY_NS <= at_ns


def _stat_key(st: os.stat_result) -> StatKey:
    # A tuple of ints, which the garbage collector stops tracking (a stat_result it
    # tracks): a re-status holds one per file.
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


# A folder manifest's entry: (*stat key, digest, hashed_at_ns). Flat, of ints and a
# string: the garbage collector stops tracking such a tuple the first time it sees it,
# so the 10,000 entries of a big folder never reach the oldest generation (a nested
# tuple survives one more collection, and enough of them pull a full collection, which
# costs more than the whole re-status, into the pass).
_ManifestEntry = tuple[int, int, int, int, int, str, int]


class Manifest(NamedTuple):
    """One folder's files as last fingerprinted, and the folder's digest then."""

    entries: dict[str, _ManifestEntry]
    tree_digest: str | None


_MANIFEST_FORMAT = f"{ALGORITHM}/marshal-{marshal.version}"


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
        self._manifests: dict[str, Manifest] = {}
        self._code_texts: dict[str, str] = {}
        self._db: sqlite3.Connection | None = None
        db: sqlite3.Connection | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # One thread at a time, not always the one that opened it (the journal
            # writer's thread fingerprints files just written): callers hold a lock.
            db = sqlite3.connect(
                self.path, timeout=10.0, isolation_level=None, check_same_thread=False
            )
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS stat_cache ("
                " path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, ctime_ns INTEGER,"
                " inode INTEGER, device INTEGER, algorithm TEXT, digest TEXT,"
                " hashed_at_ns INTEGER)"
            )
            db.execute("CREATE TABLE IF NOT EXISTS code_text (key TEXT PRIMARY KEY, text TEXT)")
            db.execute(
                "CREATE TABLE IF NOT EXISTS tree_manifest ("
                " root TEXT PRIMARY KEY, format TEXT, tree_digest TEXT, entries BLOB)"
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

    def manifest(self, root: str) -> Manifest:
        """What :func:`fingerprint_tree` learnt about ``root`` last time.

        Empty when there is none, or when it was written by a Python whose ``marshal``
        format differs (the tree is then checked file by file, as without manifest).
        """
        if self._db is None:
            return Manifest({}, None)
        try:
            row = self._db.execute(
                "SELECT format, tree_digest, entries FROM tree_manifest WHERE root = ?", (root,)
            ).fetchone()
        except sqlite3.Error:
            return Manifest({}, None)
        if row is None or row[0] != _MANIFEST_FORMAT:
            return Manifest({}, None)
        try:
            entries = marshal.loads(row[2])
        except (EOFError, ValueError, TypeError):
            return Manifest({}, None)
        return Manifest(entries, row[1]) if isinstance(entries, dict) else Manifest({}, None)

    def remember_manifest(self, root: str, manifest: Manifest) -> None:
        """Keep ``root``'s manifest, written with the other entries at :meth:`flush`."""
        if self._db is not None:
            self._manifests[root] = manifest

    def lookup(self, path: str, key: StatKey) -> str | None:
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
            row is not None and row[0] == key and row[1] == ALGORITHM and settled(key[1], row[3])  # type: ignore[arg-type]
        ):
            self.hits += 1
            return str(row[2])
        self.misses += 1
        return None

    def store(self, path: str, key: StatKey, digest: str, hashed_at_ns: int) -> None:
        if self._db is None:
            return
        self._pending.append((path, *key, ALGORITHM, digest, hashed_at_ns))
        if len(self._pending) >= self.flush_every:
            self.flush()

    def code_text(self, key: str) -> str | None:
        """The normalised source of a function, as remembered under ``key`` (see
        :func:`waldo.fingerprint.code_fingerprint`); None when unknown."""
        if self._db is None:
            return None
        pending = self._code_texts.get(key)
        if pending is not None:
            return pending
        try:
            row = self._db.execute("SELECT text FROM code_text WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            return None
        return str(row[0]) if row else None

    def remember_code_text(self, key: str, text: str) -> None:
        if self._db is not None:
            self._code_texts[key] = text

    def flush(self) -> None:
        if self._db is None or not (self._pending or self._manifests or self._code_texts):
            self._pending.clear()
            return
        rows, self._pending = self._pending, []
        code_texts, self._code_texts = list(self._code_texts.items()), {}
        manifests = [
            (root, _MANIFEST_FORMAT, manifest.tree_digest, marshal.dumps(manifest.entries))
            for root, manifest in self._manifests.items()
        ]
        self._manifests = {}
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT OR REPLACE INTO stat_cache VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
            )
            self._db.executemany(
                "INSERT OR REPLACE INTO tree_manifest VALUES (?, ?, ?, ?)", manifests
            )
            self._db.executemany("INSERT OR REPLACE INTO code_text VALUES (?, ?)", code_texts)
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


def _fingerprint(path: str, key: StatKey, cache: StatCache | None) -> str:
    if cache is not None:
        cached = cache.lookup(path, key)
        if cached is not None:
            return cached
    hashed_at = time.time_ns()
    digest, after = _read_digest(path)
    if cache is not None and _stat_key(after) == key:  # unmodified while read
        cache.store(path, key, digest, hashed_at)
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
    return _fingerprint(absolute, _stat_key(st), cache)


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


def unmatched_patterns(relative_paths: Iterable[str], patterns: Iterable[str]) -> list[str]:
    """The patterns that match none of ``relative_paths`` (as ``expand_patterns`` matches)."""
    paths = [tuple(p.split("/")) for p in relative_paths]
    return [
        pattern
        for pattern in patterns
        if not any(_match(path, _check_pattern(pattern).split("/")) for path in paths)
    ]


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
            digest = _fingerprint(absolute, _stat_key(st), cache)
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


# (relative path, its folder's absolute path, stat key, the manifest's entry if it vouches
# for the file)
_Scanned = tuple[str, str, StatKey, "_ManifestEntry | None"]


def _scan_tree(root: str, known: dict[str, _ManifestEntry]) -> list[_Scanned]:
    """Every non-hidden regular file under ``root``, in no particular order, with the
    manifest's entry when ``known`` (a folder manifest) vouches for the file's stat.

    The same files as the pattern ``**/*`` (hidden files and folders skipped, folder
    symlinks not followed), in one ``os.scandir`` pass that also takes each file's stat
    and compares it: on an unchanged tree this loop is the whole re-status.
    """
    found: list[_Scanned] = []
    stack = [("", root)]
    is_regular = stat_mod.S_ISREG
    vouched = known.get
    while stack:
        relative_dir, folder = stack.pop()
        prefix = f"{relative_dir}/" if relative_dir else ""
        # Listed through a descriptor of the folder, so that each entry's stat is an
        # fstatat() of its bare name instead of resolving the whole path again.
        try:
            folder_fd = os.open(folder, _DIRECTORY_FLAGS) if _SCANDIR_FD else None
            try:
                entries = list(os.scandir(folder if folder_fd is None else folder_fd))
                for entry in entries:
                    name = entry.name
                    if name[0] == ".":
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        stack.append((prefix + name, os.path.join(folder, name)))
                        continue
                    try:
                        st = entry.stat()
                    except FileNotFoundError:
                        continue  # a broken symlink, or removed meanwhile
                    if not is_regular(st.st_mode):
                        continue
                    relative = prefix + name
                    key = _stat_key(st)
                    known_entry = vouched(relative)
                    if (
                        known_entry is not None
                        and known_entry[:5] == key
                        and settled(key[1], known_entry[6])
                    ):
                        found.append((relative, folder, key, known_entry))
                    else:
                        found.append((relative, folder, key, None))
            finally:
                if folder_fd is not None:
                    os.close(folder_fd)
        except OSError as exc:
            where = exc.filename if isinstance(exc.filename, str) else folder
            raise InvalidInput(f"Cannot read {where}: {exc.strerror or exc}.") from exc
    return found


_DIRECTORY_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
_SCANDIR_FD = os.scandir in os.supports_fd  # not on Windows: folders are listed by path


def _tree_entries(
    root: str, cache: StatCache | None
) -> tuple[dict[str, _ManifestEntry], Manifest, bool]:
    """Each file's manifest entry under ``root`` (reading the files the manifest does not
    vouch for, through the per-file cache), in no particular order; the manifest it was
    compared with; and whether nothing changed since (same files, all vouched for)."""
    known = cache.manifest(root) if cache is not None else Manifest({}, None)
    preloaded = False
    vouched = 0
    learnt: dict[str, _ManifestEntry] = {}
    for relative, folder, key, known_entry in _scan_tree(root, known.entries):
        if known_entry is not None:
            learnt[relative] = known_entry
            vouched += 1
            continue
        absolute = os.path.join(folder, relative.rpartition("/")[2])
        if cache is not None and not preloaded:
            cache.preload(root)  # only once something is not in the manifest
            preloaded = True
        hashed_at = time.time_ns()
        try:
            digest = _fingerprint(absolute, key, cache)
        except OSError as exc:
            raise InvalidInput(f"Cannot read {absolute}: {exc.strerror or exc}.") from exc
        learnt[relative] = (*key, digest, hashed_at)
    if cache is not None:
        cache.hits += vouched
    return learnt, known, vouched == len(learnt) == len(known.entries)


def fingerprint_tree(
    base: str | os.PathLike[str], cache: StatCache | None = None
) -> dict[str, FileFingerprint]:
    """Fingerprints of every (non-hidden) file under ``base``, by relative path.

    With a cache, the folder's manifest answers for every file whose stat is the one
    it recorded (and not racy); the others go through the per-file cache or are read.
    """
    root = _check_base(base)
    learnt, _, unchanged = _tree_entries(root, cache)
    if cache is not None and not unchanged:
        cache.remember_manifest(root, Manifest(learnt, None))
    found: dict[str, FileFingerprint] = {}
    for relative in sorted(learnt):
        entry = learnt[relative]
        found[relative] = FileFingerprint(relative, entry[0], entry[1], entry[5])
    return found


def tree_digest(base: str | os.PathLike[str], cache: StatCache | None = None) -> str:
    """One digest of every (non-hidden) file under ``base``: their relative paths and
    contents (:func:`~waldo.fingerprint.content_digest` of ``{path: digest}``).

    The folder's manifest keeps it: when no file changed, it is not computed again.
    """
    root = _check_base(base)
    learnt, known, unchanged = _tree_entries(root, cache)
    if unchanged and known.tree_digest is not None:
        return known.tree_digest
    digest = content_digest({relative: entry[5] for relative, entry in learnt.items()})
    if cache is not None:
        cache.remember_manifest(root, Manifest(learnt, digest))
    return digest
