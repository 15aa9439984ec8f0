"""What the store's engine and migrations share about the drivers (sqlite3, psycopg).

How a SQLite connection is configured, the folder of a new journal file, and how a
driver's problem is worded.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from waldo._errors import StoreUnavailable

SQLITE_BUSY_TIMEOUT_S = 60.0
PG_CONNECT_TIMEOUT_S = 5
PG_LOCK_TIMEOUT_MS = 10_000
PG_STATEMENT_TIMEOUT_MS = 30_000
PG_IDLE_IN_TRANSACTION_MS = 60_000
#: Set in each transaction writing a journal batch, so a stuck write gives up and spools.
PG_WRITE_TIMEOUTS = (
    f"SET LOCAL statement_timeout = {PG_STATEMENT_TIMEOUT_MS}",
    f"SET LOCAL idle_in_transaction_session_timeout = {PG_IDLE_IN_TRANSACTION_MS}",
)
# A peer that vanished (host down, VPN dropped) is noticed in about 25 s when idle,
# and data it never acknowledges fails the connection after 30 s.
PG_TCP_SETTINGS = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,
}
SQLITE_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON")


def pg_connect_settings(query: Mapping[str, Any]) -> dict[str, Any]:
    """libpq settings under which a PostgreSQL that stops answering cannot hang Waldo:
    a connect timeout, TCP keepalives and a lock timeout (the journal's batch writes
    bound their statements too, :data:`PG_WRITE_TIMEOUTS`). Settings in the store URL's
    query win over these.
    """
    server = {"lock_timeout": PG_LOCK_TIMEOUT_MS}
    options = " ".join(f"-c {name}={value}" for name, value in server.items())
    settings: dict[str, Any] = {
        "connect_timeout": PG_CONNECT_TIMEOUT_S,
        **PG_TCP_SETTINGS,
        "options": options,
    }
    for key, value in query.items():
        settings[key] = f"{options} {value}" if key == "options" else value
    return settings


def configure_sqlite(connection: Any) -> None:
    """WAL (readers never block the writer), fsync at checkpoints, foreign keys on."""
    cursor = connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            _execute_when_unlocked(cursor, pragma)
    finally:
        cursor.close()


def _execute_when_unlocked(cursor: Any, statement: str) -> None:
    """Run a statement, retrying while SQLite says "database is locked".

    Switching a new file to WAL takes an exclusive lock; when several processes open a
    new journal at once (concurrent runs), SQLite answers the losers
    "database is locked" at once, without waiting for the busy timeout (it does not
    wait where waiting could deadlock). They retry, up to the busy timeout.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    pause = 0.005
    while True:
        try:
            cursor.execute(statement)
            return
        except Exception as exc:  # sqlite3.OperationalError; sqlite3 is imported lazily
            if "database is locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def make_sqlite_folder(path: Path) -> None:
    """Create the folder of a SQLite journal file (``sqlite3`` cannot open a file in a
    folder that does not exist)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreUnavailable(
            f"Cannot create the folder for the SQLite journal {path}: {exc}"
        ) from exc


def is_unreachable(exc: BaseException) -> bool:
    """A lost or refused connection (DB-API OperationalError / InterfaceError), as
    opposed to an error in what was written."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & {"OperationalError", "InterfaceError"})


def is_driver_error(exc: BaseException) -> bool:
    """An error raised by the driver itself (psycopg, sqlite3), which a raw cursor (the
    bulk COPY) lets through without SQLAlchemy wrapping it."""
    return any(
        cls.__name__ == "Error" and cls.__module__.split(".")[0] in ("psycopg", "sqlite3")
        for cls in type(exc).__mro__
    )


def first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def no_driver_message(where: str) -> str:
    return (
        f"No driver for {where}: install PostgreSQL support with `pip install 'waldo[postgres]'`."
    )


def unreachable_message(where: str, detail: str) -> str:
    return f"Cannot reach the Waldo store at {where}: {detail}"


def unwritable_message(where: str, error: OSError) -> str:
    return f"Cannot write the Waldo store at {where}: {error}"


def store_error_message(where: str, detail: str) -> str:
    return f"Waldo store error at {where}: {detail}"
