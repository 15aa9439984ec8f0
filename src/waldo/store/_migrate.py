"""Creating and migrating the schema with the Alembic scripts shipped in the package.

Users never need an ``alembic.ini``: Waldo builds the Alembic configuration in memory,
points it at ``waldo/store/migrations`` and hands it an open connection. On PostgreSQL
the work happens in the ``waldo`` schema under an advisory lock, so two runs starting at
once cannot both try to create the tables.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import Connection, Engine

from waldo._errors import InvalidInput
from waldo.store._schema import PG_SCHEMA

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_ADVISORY_LOCK_KEY = 0x57A1D0  # "waldo": serialises concurrent migrations


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        opts = {"version_table_schema": PG_SCHEMA} if conn.dialect.name == "postgresql" else {}
        return MigrationContext.configure(conn, opts=opts).get_current_revision()


def _run(engine: Engine, action: str, revision: str) -> None:
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK_KEY})
            conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{PG_SCHEMA}"'))
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
        # Another process (SQLite has no advisory lock) may have just created the
        # tables; if the schema is now current, that is success.
        if current_revision(engine) != head_revision():
            raise
    return True
