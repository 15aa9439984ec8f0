"""The store layer: schema, migrations, engine, batch writer, spool and read queries.

Only this package writes SQL. It knows nothing about Kedro or any other integration.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from waldo._masking import mask_url
    from waldo.store import _checks as checks
    from waldo.store import _collect as collectors
    from waldo.store import _executions as executions
    from waldo.store import _queries as queries
    from waldo.store import _results as results
    from waldo.store import _schema as schema
    from waldo.store._bulk import Record, Row, json_text
    from waldo.store._collect import RawRow, StateKey
    from waldo.store._engine import parse_store_url
    from waldo.store._spool import ReplayReport, Spool, pid_alive, store_key
    from waldo.store._store import Store
    from waldo.store._writer import EXIT_WAIT_S, RUN_END_WAIT_S, BatchWriter, FlushResult
else:
    from waldo._lazy import attach, members

    __getattr__, __dir__ = attach(
        __name__,
        {
            **members("waldo._masking", ("mask_url",)),
            **members("waldo.store._bulk", ("Record", "Row", "json_text")),
            **members("waldo.store._collect", ("RawRow", "StateKey")),
            **members("waldo.store._engine", ("parse_store_url",)),
            **members("waldo.store._spool", ("ReplayReport", "Spool", "pid_alive", "store_key")),
            **members("waldo.store._store", ("Store",)),
            **members(
                "waldo.store._writer",
                ("EXIT_WAIT_S", "RUN_END_WAIT_S", "BatchWriter", "FlushResult"),
            ),
            "checks": "waldo.store._checks",
            "collectors": "waldo.store._collect",
            "executions": "waldo.store._executions",
            "queries": "waldo.store._queries",
            "results": "waldo.store._results",
            "schema": "waldo.store._schema",
        },
    )

__all__ = [
    "EXIT_WAIT_S",
    "RUN_END_WAIT_S",
    "BatchWriter",
    "FlushResult",
    "RawRow",
    "Record",
    "ReplayReport",
    "Row",
    "Spool",
    "StateKey",
    "Store",
    "checks",
    "collectors",
    "executions",
    "json_text",
    "mask_url",
    "parse_store_url",
    "pid_alive",
    "queries",
    "results",
    "schema",
    "store_key",
]
