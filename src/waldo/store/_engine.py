"""Turning a store URL into a working SQLAlchemy engine, and database errors into ours.

The URL is the only thing a user gives; everything dialect-specific (the psycopg 3
driver, SQLite's WAL mode and busy timeout, the ``waldo`` schema on PostgreSQL) is
decided here so that no other module needs to care.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from waldo._errors import ConfigError, StoreError, StoreUnavailable
from waldo._masking import mask_text, mask_url
from waldo.store._driver import (
    SQLITE_BUSY_TIMEOUT_S,
    configure_sqlite,
    is_driver_error,
    is_unreachable,
    make_sqlite_folder,
    no_driver_message,
    pg_connect_settings,
    store_error_message,
    unreachable_message,
    unwritable_message,
)
from waldo.store._schema import PG_SCHEMA


def parse_store_url(url: str) -> sa.URL:
    """Validate a store URL and pick Waldo's driver for its database.

    ``postgresql://`` and ``postgres://`` become ``postgresql+psycopg://`` (psycopg 3, for
    COPY); ``sqlite:///relative.db`` stays relative to the current directory.
    """
    if not isinstance(url, str) or not url.strip():
        raise ConfigError("The store URL is empty: set WALDO_DB_URL or `store:` in waldo.yml.")
    try:
        parsed = sa.make_url(url.strip())
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is no number
        raise ConfigError(
            f"'{mask_url(url)}' is not a database URL; expected e.g. "
            "sqlite:///.waldo/waldo.db or postgresql://user:pass@host:5432/db."
        ) from exc
    if parsed.host and "@" in parsed.host:
        raise ConfigError(
            f"The store URL {mask_url(url)} has an '@' in its password: write it as %40 "
            "(percent-encode the password's special characters)."
        )
    backend = parsed.get_backend_name()
    if backend in ("postgres", "postgresql"):
        driver = parsed.get_driver_name()
        if backend == "postgres" or driver in ("psycopg2", ""):
            parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend != "sqlite":
        raise ConfigError(
            f"Waldo stores its journal in SQLite or PostgreSQL, not '{backend}' "
            f"(URL {mask_url(url)})."
        )
    return parsed


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def _configure_sqlite(dbapi_conn: Any, _record: Any) -> None:
    configure_sqlite(dbapi_conn)


def create_store_engine(url: str) -> Engine:
    """Create the engine for a store URL; SQLite files get their folder created."""
    parsed = parse_store_url(url)
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            make_sqlite_folder(Path(database).expanduser())
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}
    else:
        kwargs["connect_args"] = pg_connect_settings(parsed.query)
        kwargs["execution_options"] = {"schema_translate_map": {None: PG_SCHEMA}}
    try:
        engine = sa.create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        raise ConfigError(no_driver_message(mask_url(url))) from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _configure_sqlite)
    return engine


def translate_error(exc: BaseException, url: str) -> StoreError:
    """Turn a driver error into a one-line Waldo error that says what to do."""
    where = mask_url(url)
    first_line = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    detail = mask_text(first_line[0], [url]) if first_line else type(exc).__name__
    if isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError)) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    ):
        return StoreUnavailable(unreachable_message(where, detail))
    if is_driver_error(exc) and is_unreachable(exc):  # e.g. a lock or statement timeout
        return StoreUnavailable(unreachable_message(where, detail))
    if isinstance(exc, OSError):
        return StoreUnavailable(unwritable_message(where, exc))
    if isinstance(exc, SQLAlchemyError):
        return StoreError(store_error_message(where, detail))
    return StoreError(store_error_message(where, f"{type(exc).__name__}: {detail}"))
