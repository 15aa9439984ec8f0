"""Fingerprints of what a node is made of and what it reads and writes.

* the code of its function and of the project's code it reaches
  (``waldo.fingerprint.CodeFingerprinter``, one per ``Fingerprints``, each function
  fingerprinted once; ``fingerprints: {libraries: true, packages: [...]}`` in
  ``waldo.yml`` adds library versions and packages, see ``_project_code``);
* each parameter it reads (canonical fingerprint of the value);
* the version of each dataset it loads or saves: for a local file or folder the
  content fingerprint of what is on disk (stat-cached, so a file that was just written
  or has not changed is not read twice); for anything else the fingerprint of the data
  object itself. A value that cannot be fingerprinted is recorded as unknown, which
  counts as changed, and the user is warned once naming it.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any, NamedTuple

from waldo._errors import ConfigError, WaldoError
from waldo.fingerprint import (
    CodeFingerprinter,
    CodeManifest,
    StatCache,
    data_fingerprint,
    fingerprint_file,
    params_fingerprint,
    tree_digest,
)
from waldo.journal import MISSING
from waldo.kedro._branches import BranchLocalDataset
from waldo.kedro._datasets import dataset_of, is_parameter, is_persisted, local_path
from waldo.kedro._project_code import CodeOptions, code_options, project_packages

log = logging.getLogger("waldo")

STAT_CACHE = Path(".waldo") / "statcache.db"


class Version(NamedTuple):
    """A dataset's version as recorded: the digest, and how it was obtained."""

    version: str | None
    data_digest: str | None = None
    data_kind: str | None = None
    path: str | None = None


class Fingerprints:
    """Fingerprinting for one project, with a stat cache under ``.waldo/``."""

    def __init__(self, project_path: Path, options: Any = None) -> None:
        """``options``: ``fingerprints:`` from ``waldo.yml`` (see ``_project_code``)."""
        self.project_path = project_path
        self._cache_path = project_path / STAT_CACHE
        self._cache: StatCache | None = None
        self._cache_pid = 0
        self._lock = threading.Lock()
        self._code: dict[int, tuple[Any, CodeManifest | None]] = {}
        self._warned: set[str] = set()
        try:
            code = code_options(options)
        except ConfigError as exc:  # never stop a run over an option: warn, use defaults
            self._warn_once(f"{exc} Using the defaults.")
            code = CodeOptions()
        self._coder = CodeFingerprinter(project_packages(project_path, code), code.libraries)
        # Where each dataset lives, per catalog: asked on every load and save, and a
        # catalog does not change its datasets during a run.
        self._where: dict[str, tuple[bool, Path | None]] = {}
        self._where_catalog: Any = None

    def _stat_cache(self) -> StatCache:
        # One cache connection per process: a forked worker must not share its parent's.
        if self._cache is None or self._cache_pid != os.getpid():
            self._cache = StatCache(self._cache_path)
            self._cache_pid = os.getpid()
        return self._cache

    def _warn_once(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            log.warning("waldo: %s", message)

    def code(self, func: Any) -> str | None:
        manifest = self.code_manifest(func)
        return manifest.digest if manifest is not None else None

    def code_manifest(self, func: Any) -> CodeManifest | None:
        """What a node function's code fingerprint is made of (None if it cannot be
        computed, which counts as changed); each value read by source is warned once."""
        cached = self._code.get(id(func))
        if cached is not None and cached[0] is func:
            return cached[1]
        manifest: CodeManifest | None = None
        try:
            with self._lock:  # the cache's connection is used by one thread at a time
                self._coder.cache = self._stat_cache()
                manifest = self._coder.manifest(func)
        except Exception as exc:  # never break a run over a fingerprint
            self._warn_once(f"cannot fingerprint the code of {func!r} ({exc}); counts as changed")
        for note in manifest.notes if manifest is not None else ():
            self._warn_once(note)
        self._code[id(func)] = (func, manifest)
        return manifest

    def params(self, values: dict[str, Any]) -> dict[str, str]:
        hashes: dict[str, str] = {}
        for name, value in values.items():
            try:
                hashes[name] = params_fingerprint(value)
            except WaldoError as exc:
                self._warn_once(
                    f"parameter {name} cannot be fingerprinted ({exc}); counts as changed"
                )
                hashes[name] = "unknown"
        return hashes

    def file_version(self, path: Path) -> str | None:
        """Content fingerprint of a file, or of every file under a folder; ``MISSING``
        when it does not exist, None when it cannot be read."""
        if not path.exists():
            return MISSING
        with self._lock:
            cache = self._stat_cache()
            try:
                if path.is_dir():
                    return tree_digest(path, cache)
                return fingerprint_file(path, cache)
            except WaldoError as exc:
                self._warn_once(f"cannot fingerprint {path} ({exc}); it counts as changed")
                return None

    def location(self, catalog: Any, name: str) -> tuple[bool, Path | None]:
        """Whether dataset ``name`` persists its data, and the local file or folder it
        is written to (None when it is not on this machine's disk)."""
        if catalog is not self._where_catalog:
            self._where = {}
            self._where_catalog = catalog
        found = self._where.get(name)
        if found is None:
            persisted = is_persisted(catalog, name)
            dataset = dataset_of(catalog, name) if persisted else None
            moves = (  # a versioned path moves with every save, a branch copy appears
                getattr(dataset, "_version", None) is not None
                or isinstance(dataset, BranchLocalDataset)
            )
            found = (persisted, local_path(dataset) if persisted else None)
            if not moves:
                self._where[name] = found
        return found

    def dataset(
        self,
        catalog: Any,
        name: str,
        data: Any = None,
        has_data: bool = False,
    ) -> Version:
        """The version of dataset ``name`` now (after a save, or at a load).

        The loads of an in-memory dataset saved earlier in the run take the version its
        save recorded (see the Kedro hooks), not from here.
        """
        _, path = self.location(catalog, name)
        if path is not None:
            return Version(self.file_version(path), path=str(path))
        if not has_data:
            return Version(None)
        return self._of_data(name, data)

    def of_value(self, name: str, data: Any, path: Path | None) -> Version:
        """The version of a value just saved to ``path`` (None: not on local disk)."""
        if path is not None:
            return Version(self.file_version(path), path=str(path))
        return self._of_data(name, data)

    def _of_data(self, name: str, data: Any) -> Version:
        fingerprint = data_fingerprint(data)
        if not fingerprint.known:
            self._warn_once(
                f"dataset {name} ({fingerprint.kind}) cannot be fingerprinted "
                f"({fingerprint.reason}); it counts as changed"
            )
        return Version(fingerprint.digest, fingerprint.digest, fingerprint.kind)

    def persisted(self, catalog: Any, name: str) -> bool:
        return not is_parameter(name) and is_persisted(catalog, name)

    def save(self) -> None:
        """Write what the stat cache learnt (at run end, and after each worker node)."""
        with self._lock:
            if self._cache is not None and self._cache_pid == os.getpid():
                self._cache.flush()
