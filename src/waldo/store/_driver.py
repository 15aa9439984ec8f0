"""Database connections straight through the driver (sqlite3, psycopg), no SQLAlchemy.

The writer's helper process writes every batch of a run and must start cheaply (see
:mod:`waldo.store._batch_sql`), so it talks to the driver itself. The pipeline's process
describes the connection once, from the store URL
(:func:`waldo.store._engine.driver_target`); this module opens it with the same
settings the store's engine uses, says which schema revision the database is at, and
words a driver error the way the store does. It also knows the revision this version
of Waldo writes (:func:`head_revision`), for the helper to compare.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from waldo._errors import ConfigError, StoreUnavailable

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_S = 60.0
PG_CONNECT_TIMEOUT_S = 5
PG_LOCK_TIMEOUT_MS = 10_000
PG_STATEMENT_TIMEOUT_MS = 30_000
PG_IDLE_IN_TRANSACTION_MS = 60_000
# A peer that vanished (host down, VPN dropped) is noticed in about 25 s when idle,
# and data it never acknowledges fails the connection after 30 s.
PG_TCP_SETTINGS = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,
}
LIBPQ_SWITCH = "WALDO_LIBPQ"
SQLITE_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON")


class DriverTarget(NamedTuple):
    """How to open a store's database with its driver."""

    dialect: str  # "sqlite" or "postgresql"
    params: dict[str, Any]  # keyword arguments of the driver's connect()
    where: str  # the URL with its password masked, for messages


def pg_connect_settings(query: Mapping[str, Any], *, recording: bool) -> dict[str, Any]:
    """libpq settings under which a PostgreSQL that stops answering cannot hang Waldo.

    Every connection gets a connect timeout, TCP keepalives and a lock timeout; a
    recording connection (``recording``) also a statement timeout and an idle-in-
    transaction timeout. Settings in the store URL's query win over these.
    """
    server = {"lock_timeout": PG_LOCK_TIMEOUT_MS}
    if recording:
        server["statement_timeout"] = PG_STATEMENT_TIMEOUT_MS
        server["idle_in_transaction_session_timeout"] = PG_IDLE_IN_TRANSACTION_MS
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
    new journal at once (a run and its writer's helper), SQLite answers the losers
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


def switched_off(variable: str) -> bool:
    """True when an on-by-default environment switch says 0, false, no or off."""
    return os.environ.get(variable, "1").strip().lower() in ("0", "false", "no", "off")


def make_sqlite_folder(path: Path) -> None:
    """Create the folder of a SQLite journal file, which ``sqlite3`` cannot open in a
    folder that does not exist: whichever opens a new journal first (the run, or its
    writer's helper process when the run's first batch comes before anything else
    wrote to ``.waldo/``) creates it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreUnavailable(
            f"Cannot create the folder for the SQLite journal {path}: {exc}"
        ) from exc


def connect(target: DriverTarget) -> Any:
    """A DB-API connection in which :func:`begin` starts each transaction.

    PostgreSQL is reached through libpq directly (:mod:`waldo.store._libpq`) when the
    library loads, and psycopg is installed (the store itself needs it): importing
    psycopg would cost the writer's helper process, which calls this, several times
    the rest of its start-up. ``WALDO_LIBPQ=0`` uses psycopg here too.
    """
    if target.dialect == "sqlite":
        import sqlite3

        make_sqlite_folder(Path(target.params["database"]))
        connection = sqlite3.connect(**target.params, isolation_level=None, check_same_thread=False)
        configure_sqlite(connection)
        return connection
    if importlib.util.find_spec("psycopg") is None:  # as the store's engine says
        raise ConfigError(no_driver_message(target.where))
    if not switched_off(LIBPQ_SWITCH):
        from waldo.store import _libpq

        if _libpq.load() is not None:
            return _libpq.Connection(target.params)
    try:
        import psycopg
    except ImportError as exc:
        raise ConfigError(no_driver_message(target.where)) from exc
    return psycopg.connect(**target.params)


def begin(connection: Any, dialect: str) -> None:
    if dialect == "sqlite":  # psycopg opens a transaction with the first statement
        connection.execute("BEGIN IMMEDIATE")


def commit(connection: Any, dialect: str) -> None:
    if dialect == "sqlite":
        connection.execute("COMMIT")
    else:
        connection.commit()


def rollback(connection: Any, dialect: str) -> None:
    if dialect == "sqlite":
        if connection.in_transaction:
            connection.execute("ROLLBACK")
    else:
        connection.rollback()


@functools.cache
def head_revision() -> str:
    """The newest shipped revision: the highest ``NNNN`` prefix of the scripts."""
    scripts = (MIGRATIONS_DIR / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")
    return max(path.name[:4] for path in scripts)


def schema_revision(connection: Any, dialect: str, pg_schema: str) -> str | None:
    """The revision in Alembic's version table; None before the first migration."""
    cursor = connection.cursor()
    try:
        if dialect == "sqlite":
            cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'alembic_version'")
            table = "alembic_version"
        else:
            table = f'"{pg_schema}".alembic_version'
            cursor.execute("SELECT to_regclass(%s)", (table,))
        exists = cursor.fetchone()
        if not exists or exists[0] is None:
            return None
        cursor.execute(f"SELECT version_num FROM {table}")
        row = cursor.fetchone()
        return str(row[0]) if row else None
    finally:
        cursor.close()


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


def describe_problem(exc: BaseException, where: str) -> tuple[str, str]:
    """``("unavailable", message)`` for a store that cannot be reached or written (the
    batch waits in the spool), else ``("error", message)``: worded as the store's own
    errors (``waldo.store._engine.translate_error``)."""
    if isinstance(exc, OSError):
        return "unavailable", unwritable_message(where, exc)
    if is_unreachable(exc):
        return "unavailable", unreachable_message(where, first_line(exc))
    if {cls.__name__ for cls in type(exc).__mro__} & {"DatabaseError", "Error"}:
        return "error", store_error_message(where, first_line(exc))
    return "error", f"unexpected error writing the journal ({exc!r})"
