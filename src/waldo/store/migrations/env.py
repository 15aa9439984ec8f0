"""Alembic environment: a connection Waldo hands over, or the seed's ``-x URL``.

Waldo's own commands (``waldo db upgrade``, every store's first use) pass an open
connection in ``config.attributes``. The shipped ``alembic.ini`` serves the seed's
workflow, ``alembic -c <path>/alembic.ini -x URL upgrade head`` (also ``history``,
``current``, ``downgrade -1``, ``downgrade REV``): the URL is the first ``-x`` argument
(``-x url=URL`` works too), else ``sqlalchemy.url`` in the ini, else ``WALDO_DB_URL``.
"""

from __future__ import annotations

import os
import sys
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from waldo.store._schema import PG_SCHEMA, metadata


def run(connection: Connection) -> None:
    dialect = connection.dialect.name
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table_schema=PG_SCHEMA if dialect == "postgresql" else None,
        render_as_batch=dialect == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def url_from_command_line() -> str | None:
    """The store URL the seed's workflow gives: ``-x URL`` or ``-x url=URL``."""
    for argument in context.get_x_argument(as_dictionary=False):
        if argument.startswith("url="):
            return argument[len("url=") :]
        if "://" in argument or argument.startswith("sqlite:"):
            return argument
    return context.config.get_main_option("sqlalchemy.url") or os.environ.get("WALDO_DB_URL")


def run_from_url() -> None:
    from waldo._errors import WaldoError
    from waldo._masking import mask_url
    from waldo.store._engine import create_store_engine, translate_error
    from waldo.store._migrate import migration_connection

    if context.config.config_file_name:
        fileConfig(context.config.config_file_name, disable_existing_loggers=False)
    url = url_from_command_line()
    if not url:
        sys.exit(
            "error: give the store URL: alembic -c <path>/alembic.ini -x "
            "postgresql://user:password@host:5432/db upgrade head"
        )
    try:
        engine = create_store_engine(url)
        with migration_connection(engine) as connection:
            run(connection)
    except WaldoError as exc:
        sys.exit(f"error: {exc}")
    except Exception as exc:
        if "alembic" in type(exc).__module__:
            raise  # Alembic's own errors (an unknown revision) print as Alembic prints them
        sys.exit(f"error: {translate_error(exc, url)} ({mask_url(url)})")


given = context.config.attributes.get("connection")
if given is not None:
    run(given)
else:
    run_from_url()
