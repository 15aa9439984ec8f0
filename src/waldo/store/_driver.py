"""What the store's engine and migrations share about the drivers (sqlite3, psycopg).

How a SQLite connection is configured, the folder of a new journal file, and how a
driver's problem is worded.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, NamedTuple

from waldo._errors import StoreUnavailable

SQLITE_BUSY_TIMEOUT_S = 60.0
PG_CONNECT_TIMEOUT_S = 5
SQLITE_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON")


class DriverTarget(NamedTuple):
    """How to open a store's database with its driver."""

    dialect: str  # "sqlite" or "postgresql"
    params: dict[str, Any]  # keyword arguments of the driver's connect()
    where: str  # the URL with its password masked, for messages


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
