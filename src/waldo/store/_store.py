"""The store: one object per database URL that owns the engine, migrations and I/O.

Everything that touches SQL goes through here, and every driver error leaves it as a
:class:`~waldo.StoreError` with a one-line message.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from waldo._errors import StoreError
from waldo._masking import mask_url
from waldo.store import _migrate
from waldo.store._bulk import Record, write_records
from waldo.store._driver import PG_WRITE_TIMEOUTS, is_driver_error
from waldo.store._engine import create_store_engine, translate_error

T = TypeVar("T")


class Store:
    """The journal's database, created lazily and migrated on first use."""

    def __init__(self, url: str, *, auto_migrate: bool = True) -> None:
        self.url = url
        self.auto_migrate = auto_migrate
        self._engine: Engine | None = None
        self._migrated = False
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Store({self.display_url!r})"

    @property
    def display_url(self) -> str:
        return mask_url(self.url)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = create_store_engine(self.url)
        return self._engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def _guard(self, action: Callable[[], T]) -> T:
        try:
            return action()
        except StoreError:
            raise
        except (SQLAlchemyError, OSError) as exc:
            raise translate_error(exc, self.url) from exc
        except Exception as exc:
            if is_driver_error(exc):  # from a raw cursor, not wrapped by SQLAlchemy
                raise translate_error(exc, self.url) from exc
            raise

    def ensure_schema(self) -> None:
        """Create or upgrade the tables once per process (when auto-migration is on)."""
        if self._migrated or not self.auto_migrate:
            return
        with self._lock:
            if not self._migrated:
                self._guard(lambda: _migrate.ensure_current(self.engine))
                self._migrated = True

    def upgrade(self, revision: str = "head") -> None:
        self._guard(lambda: _migrate.upgrade(self.engine, revision))
        self._migrated = True

    def downgrade(self, revision: str) -> None:
        self._guard(lambda: _migrate.downgrade(self.engine, revision))
        self._migrated = False

    def current_revision(self) -> str | None:
        return self._guard(lambda: _migrate.current_revision(self.engine))

    @staticmethod
    def head_revision() -> str:
        return _migrate.head_revision()

    @staticmethod
    def history() -> list[_migrate.Revision]:
        """The shipped migrations, newest first."""
        return _migrate.history()

    @staticmethod
    def alembic_ini() -> str:
        """The shipped ``alembic.ini``, for the seed's ``alembic -c`` workflow."""
        return str(_migrate.MIGRATIONS_DIR / "alembic.ini")

    def write(self, records: Sequence[Record], batch_id: str | None = None) -> bool:
        """Write a batch in one transaction; with a ``batch_id``, at most once ever.

        Returns False when the batch had already been written (a replay).
        """
        if not records:
            return True
        self.ensure_schema()

        def action() -> bool:
            with self.engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    for statement in PG_WRITE_TIMEOUTS:
                        conn.exec_driver_sql(statement)
                return write_records(conn, records, batch_id)

        return self._guard(action)

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection in a transaction, for the query functions; errors translated."""
        self.ensure_schema()
        try:
            with self.engine.begin() as conn:
                yield conn
        except StoreError:
            raise
        except (SQLAlchemyError, OSError) as exc:
            raise translate_error(exc, self.url) from exc

    def run(self, query: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run one query function (from ``waldo.store.queries``) in its own transaction."""
        with self.connect() as conn:
            return query(conn, *args, **kwargs)

    def ping(self) -> None:
        """Fail with StoreUnavailable when the database cannot be reached."""

        def action() -> None:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")

        self._guard(action)

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
            self._migrated = False

    def forget_after_fork(self) -> None:
        """Drop the parent's pooled connections in a forked child without closing them."""
        if self._engine is not None:
            self._engine.dispose(close=False)
            self._engine = None
