"""Talking to a Dolt database (``doltlite``) without falling into its import-order trap.

``doltlite`` replaces the SQLite engine under Python's ``sqlite3`` module, but only if
it is loaded before ``sqlite3``; afterwards it re-executes the interpreter (which
would restart a ``kedro run`` halfway) or fails. Waldo's own journal imports
``sqlite3`` early, so :func:`call` does the work in one of two places:

- in this process when its ``sqlite3`` already runs on doltlite (the program imported
  ``doltlite`` first, or Python started with ``LD_PRELOAD`` set to
  :func:`doltlite.libdoltlite_path`): nothing to start, nothing to copy;
- otherwise in one worker process (``_dolt_worker.py``, whose first import is
  ``doltlite``), started on the first call and reused by every later one, so a
  ``kedro run`` pays its start once; it stops when this process exits.

``WALDO_DOLT=inprocess`` insists on the first: when ``sqlite3`` came first without
doltlite, :class:`DoltImportOrderError` says what to do instead of a re-exec or a crash.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib.util
import os
import pickle
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import IO, Any

from waldo._errors import ConfigError, WaldoError

WORKER = Path(__file__).with_name("_dolt_worker.py")
MODE_ENV = "WALDO_DOLT"
BRANCH_ENV = "WALDO_DOLT_BRANCH"
DATABASE_ENV = "WALDO_DOLT_DATABASE"
_BOOTSTRAP_MARKER = "_DOLTLITE_BOOTSTRAPPED"
_STOP_TIMEOUT_S = 10.0


class DoltError(WaldoError):
    """The Dolt database refused an operation (message in Dolt's words)."""


class DoltImportOrderError(DoltError):
    """``doltlite`` was asked for in-process after ``sqlite3`` had been imported."""


IMPORT_ORDER_MESSAGE = (
    "doltlite must be loaded before Python's sqlite3 module, but sqlite3 is already "
    "imported in this process. Either unset WALDO_DOLT (Waldo then runs Dolt work in a "
    "separate worker process), or make `import doltlite` the first import of your "
    "program, or start Python with LD_PRELOAD=$(python -c 'import doltlite, sys; "
    "sys.stdout.write(doltlite.libdoltlite_path())')."
)

_in_process: list[ModuleType] = []


def sqlite3_runs_on_doltlite() -> bool:
    """Whether this process's ``sqlite3`` module talks to doltlite's engine."""
    if "sqlite3" not in sys.modules and "doltlite" not in sys.modules:
        return False  # importing sqlite3 here would spoil a later `import doltlite`
    return _engine_is_doltlite()


@functools.cache
def _engine_is_doltlite() -> bool:
    import sqlite3

    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("SELECT dolt_version()")
    except sqlite3.Error:
        return False
    finally:
        conn.close()
    return True


def check_import_order() -> None:
    """Raise :class:`DoltImportOrderError` when in-process doltlite cannot work here."""
    already = "sqlite3" in sys.modules or "_sqlite3" in sys.modules
    if already and not sqlite3_runs_on_doltlite():
        raise DoltImportOrderError(IMPORT_ORDER_MESSAGE)


def _worker_module() -> ModuleType:
    if not _in_process:
        check_import_order()
        if sqlite3_runs_on_doltlite():  # loaded already (LD_PRELOAD): no bootstrap re-exec
            os.environ[_BOOTSTRAP_MARKER] = "1"
        spec = importlib.util.spec_from_file_location("waldo_dolt_worker", WORKER)
        if spec is None or spec.loader is None:  # pragma: no cover - the file ships
            raise DoltError(f"cannot load {WORKER}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _in_process.append(module)
    return _in_process[0]


@dataclass
class _WorkerProcess:
    """A running ``_dolt_worker.py``: pickled requests in, pickled replies out."""

    process: subprocess.Popen[bytes]
    stderr: IO[bytes]

    @classmethod
    def start(cls) -> _WorkerProcess:
        env = dict(os.environ)
        env.pop(_BOOTSTRAP_MARKER, None)  # a fresh interpreter must bootstrap for itself
        stderr = tempfile.TemporaryFile(prefix="waldo-dolt-")  # noqa: SIM115  # stop() closes it
        process = subprocess.Popen(
            [sys.executable, str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=env,
        )
        return cls(process, stderr)

    def exchange(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        pickler = pickle.Pickler(self.process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
        pickler.fast = True  # no memo: a frame's values are many and seldom shared
        pickler.dump(request)
        self.process.stdin.flush()
        reply: dict[str, Any] = pickle.load(self.process.stdout)
        return reply

    def stop(self) -> str:
        """Close both pipes (the worker ends at the end of its input, or on a reply it
        can no longer write), kill it if it lingers; return the last line it wrote to
        stderr (a crash's last traceback line)."""
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        try:
            self.process.wait(timeout=_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        with self.stderr:
            self.stderr.seek(0)
            lines = self.stderr.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else f"exit code {self.process.returncode}"


class _SharedWorker:
    """The one worker of this process: started on first use, reused, stopped at exit.

    One request at a time (a lock), since nodes may save from several threads.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._worker: _WorkerProcess | None = None

    def request(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            if self._worker is None or self._worker.process.poll() is not None:
                self._worker = _WorkerProcess.start()
            worker = self._worker
            try:
                return worker.exchange(request)
            except BaseException as exc:  # the stream is out of step: never reuse it
                self._worker = None
                line = worker.stop()
                if isinstance(exc, (OSError, EOFError, pickle.UnpicklingError)):
                    message = f"the Dolt worker failed during {request['op']}: {line}"
                    raise DoltError(message) from exc
                raise

    def stop(self) -> None:
        with self._lock:
            if self._worker is not None:
                self._worker.stop()
                self._worker = None

    # A fork waits for the request under way, so the child copies no half-written frame.
    def before_fork(self) -> None:
        self._lock.acquire()

    def after_fork_in_parent(self) -> None:
        self._lock.release()

    def after_fork_in_child(self) -> None:
        """The parent's worker is not the child's: close the child's copies of its pipes
        (so the worker still sees its input end) and start afresh."""
        inherited, self._worker = self._worker, None
        self._lock = threading.Lock()
        if inherited is not None:
            for stream in (inherited.process.stdin, inherited.process.stdout, inherited.stderr):
                if stream is not None:
                    stream.close()


_shared = _SharedWorker()
atexit.register(_shared.stop)
os.register_at_fork(
    before=_shared.before_fork,
    after_in_parent=_shared.after_fork_in_parent,
    after_in_child=_shared.after_fork_in_child,
)


def stop_worker() -> None:
    """Stop this process's Dolt worker, if one runs (the next call starts another)."""
    _shared.stop()


def call(op: str, **request: Any) -> Any:
    """Run one Dolt operation (see ``_dolt_worker.OPS``) and return its result."""
    if importlib.util.find_spec("doltlite") is None:
        raise DoltError("Dolt tables need doltlite: pip install 'waldo[dolt]'.")
    request["op"] = op
    if request.get("database"):  # the worker may outlive a change of directory
        request["database"] = os.path.abspath(request["database"])
    in_process = os.environ.get(MODE_ENV, "").strip().lower() == "inprocess"
    if in_process or sqlite3_runs_on_doltlite():
        reply = _worker_module().reply(request)
    else:
        reply = _shared.request(request)
    if not reply.get("ok"):
        raise DoltError(str(reply.get("error")))
    return reply.get("result")


def database_from_config(project_path: Path, waldo_conf: dict[str, Any]) -> Path | None:
    """The Dolt database named in ``waldo.yml`` (``dolt: {database: ...}``), if any."""
    dolt = waldo_conf.get("dolt")
    if not dolt:
        return None
    if not isinstance(dolt, dict) or not dolt.get("database"):
        raise ConfigError("waldo.yml: `dolt:` needs `database: <path of the Dolt file>`.")
    path = Path(str(dolt["database"])).expanduser()
    return path if path.is_absolute() else project_path / path
