"""Reading what a collection wrote, straight from the database, as a user would check it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from waldo.store import Store

ROOT = Path(__file__).resolve().parents[2]


def query(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """Run ``sql``; ``{s}`` before a table name becomes ``waldo.`` on PostgreSQL."""
    store = Store(url, auto_migrate=False)
    try:
        with store.engine.connect() as conn:
            prefix = "waldo." if conn.dialect.name == "postgresql" else ""
            return [tuple(r) for r in conn.execute(sa.text(sql.format(s=prefix)), params)]
    finally:
        store.dispose()


def count(url: str, table: str) -> int:
    try:
        return int(query(url, f"SELECT count(*) FROM {{s}}{table}")[0][0])
    except Exception:
        return 0  # the table does not exist yet


def context(db_url: str, **fields: Any) -> str:
    return json.dumps({"db_url": db_url, **fields})


def waldo(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> Any:
    """Run ``waldo ...`` in a subprocess from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", "waldo.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
