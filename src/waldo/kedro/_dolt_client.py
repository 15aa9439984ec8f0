"""Talking to a Dolt database (``doltlite``) without falling into its import-order trap.

``doltlite`` replaces the SQLite engine under Python's ``sqlite3`` module, but only if
it is imported before ``sqlite3``; afterwards it re-executes the interpreter (which
would restart a ``kedro run`` halfway) or fails. Waldo's own journal imports
``sqlite3`` early, so by default every Dolt operation runs in a short-lived worker
process (``_dolt_worker.py``) whose first import is ``doltlite``.

``WALDO_DOLT=inprocess`` runs the operations in this process instead (no process
start per call). That needs ``doltlite`` loaded first: start Python with
``LD_PRELOAD`` set to :func:`doltlite.libdoltlite_path`, or ``import doltlite`` as the
very first import. When ``sqlite3`` came first, :class:`DoltImportOrderError` says
exactly that, instead of a re-exec or a crash.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from waldo._errors import ConfigError, WaldoError

WORKER = Path(__file__).with_name("_dolt_worker.py")
MODE_ENV = "WALDO_DOLT"
BRANCH_ENV = "WALDO_DOLT_BRANCH"
DATABASE_ENV = "WALDO_DOLT_DATABASE"
_BOOTSTRAP_MARKER = "_DOLTLITE_BOOTSTRAPPED"


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


def check_import_order() -> None:
    """Raise :class:`DoltImportOrderError` when in-process doltlite cannot work here."""
    already = "sqlite3" in sys.modules or "_sqlite3" in sys.modules
    if already and os.environ.get(_BOOTSTRAP_MARKER) != "1":
        raise DoltImportOrderError(IMPORT_ORDER_MESSAGE)


def _worker_module() -> ModuleType:
    if not _in_process:
        check_import_order()
        spec = importlib.util.spec_from_file_location("waldo_dolt_worker", WORKER)
        if spec is None or spec.loader is None:  # pragma: no cover - the file ships
            raise DoltError(f"cannot load {WORKER}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _in_process.append(module)
    return _in_process[0]


def call(op: str, **request: Any) -> Any:
    """Run one Dolt operation (see ``_dolt_worker.OPS``) and return its result."""
    request["op"] = op
    if importlib.util.find_spec("doltlite") is None:
        raise DoltError("Dolt tables need doltlite: pip install 'waldo[dolt]'.")
    if os.environ.get(MODE_ENV, "").strip().lower() == "inprocess":
        worker = _worker_module()
        try:
            return worker.handle(request)
        except worker.DoltRequestError as exc:
            raise DoltError(str(exc)) from exc
        except Exception as exc:
            raise DoltError(f"Dolt {op} failed: {exc}") from exc
    env = dict(os.environ)
    env.pop(_BOOTSTRAP_MARKER, None)  # a fresh interpreter must bootstrap for itself
    proc = subprocess.run(
        [sys.executable, str(WORKER)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    try:
        reply = json.loads(proc.stdout)
    except json.JSONDecodeError:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise DoltError(f"the Dolt worker failed during {op}: {tail[0]}") from None
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
