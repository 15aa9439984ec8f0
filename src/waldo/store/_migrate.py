"""Creating and migrating the schema with the Alembic scripts shipped in the package.

Users never need an ``alembic.ini``: Waldo builds the Alembic configuration in memory,
points it at ``waldo/store/migrations`` and hands it an open connection. On PostgreSQL
the work happens in the ``waldo`` schema under an advisory lock, so two runs starting at
once cannot both try to create the tables. For the seed's workflow the package also
ships ``migrations/alembic.ini`` (``alembic -c .../alembic.ini -x URL upgrade head``),
whose ``env.py`` opens the same kind of connection (:func:`migration_connection`).

Every process that opens the store asks whether the schema is current, so that question
is answered without Alembic (whose import costs about 0.1 s, as much again as
SQLAlchemy's): the head is the highest ``NNNN_`` prefix among the shipped scripts (each
script's revision id is its prefix, which a test checks against Alembic's own answer)
and the current revision is one ``SELECT`` of Alembic's version table. Alembic is only
imported to migrate.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from waldo._errors import InvalidInput
from waldo.store._schema import PG_SCHEMA

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "MIGRATIONS_DIR",
    "Revision",
    "downgrade",
    "ensure_current",
    "head_revision",
    "history",
    "migration_connection",
    "upgrade",
]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


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


_ADVISORY_LOCK_KEY = 0x57A1D0  # "waldo": serialises concurrent migrations
# Alembic runs a command through module-level proxies (alembic.context, alembic.op):
# two threads migrating at once, through two Store objects of the same file, broke
# each other ("KeyError: 'script'", "table ... already exists"). One at a time here.
_MIGRATING = threading.Lock()


def _alembic_config(connection: Connection) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def current_revision(engine: Engine) -> str | None:
    """The revision in Alembic's version table; None before the first migration."""
    with engine.connect() as conn:
        dbapi_connection = conn.connection.dbapi_connection
        return schema_revision(dbapi_connection, conn.dialect.name, PG_SCHEMA)


@contextmanager
def migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that may migrate: one migration at a time (the
    advisory lock on PostgreSQL), the ``waldo`` schema there created if missing."""
    with _MIGRATING, engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # a migration waits its turn and takes its time: no lock or statement timeout
            conn.execute(sa.text("SET LOCAL lock_timeout = 0"))
            conn.execute(sa.text("SET LOCAL statement_timeout = 0"))
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK_KEY})
            conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{PG_SCHEMA}"'))
        yield conn


@dataclass(frozen=True)
class Revision:
    """One shipped migration, as ``waldo db history`` lists it."""

    revision: str
    down_revision: str | None
    message: str


def history() -> list[Revision]:
    """The shipped migrations, newest first."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    found = []
    for script in ScriptDirectory.from_config(config).walk_revisions():
        down = script.down_revision
        found.append(
            Revision(
                revision=str(script.revision),
                down_revision=str(down) if isinstance(down, str) else None,
                message=(script.doc or "").strip().splitlines()[0] if script.doc else "",
            )
        )
    return found


def _run(engine: Engine, action: str, revision: str) -> None:
    with migration_connection(engine) as conn:
        from alembic import command
        from alembic.util import CommandError

        config = _alembic_config(conn)
        try:
            if action == "upgrade":
                command.upgrade(config, revision)
            else:
                command.downgrade(config, revision)
        except CommandError as exc:  # an unknown or unreachable revision: the user's input
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InvalidInput(
                f"Cannot {action} the schema to '{revision}': {detail}. "
                f"Revisions: base up to {head_revision()} (head)."
            ) from exc


def upgrade(engine: Engine, revision: str = "head") -> None:
    _run(engine, "upgrade", revision)


def downgrade(engine: Engine, revision: str) -> None:
    _run(engine, "downgrade", revision)


def ensure_current(engine: Engine) -> bool:
    """Upgrade to head when needed; returns True when a migration ran."""
    if current_revision(engine) == head_revision():
        return False
    try:
        upgrade(engine)
    except sa.exc.OperationalError:
        # Another process (SQLite has no advisory lock) is creating the same tables:
        # concurrent runs both find a new file empty. Once that process
        # has finished, the schema is current, and that is success.
        if not _wait_for_head(engine, MIGRATION_WAIT_SECONDS):
            raise
    return True


MIGRATION_WAIT_SECONDS = 30.0


def _wait_for_head(engine: Engine, timeout: float) -> bool:
    """Wait until another process's migration has brought the schema to head."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if current_revision(engine) == head_revision():
                return True
        except sa.exc.OperationalError:
            pass  # locked, or the version table not there yet: still migrating
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
