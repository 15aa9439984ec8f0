"""SQL of the results store: samples, contexts and per-sample outlier scores.

A model's output can be a million rows, so scores are written the fast way each
database offers: a binary ``COPY`` straight into ``outlier_score`` on PostgreSQL (a new
context has no rows yet, so nothing can conflict) and one ``executemany`` on SQLite.
Samples are upserted by id, so saving the same samples again updates them in place.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from waldo.store._schema import PG_SCHEMA, contexts, outlier_score, samples


def _dbapi_cursor(conn: Connection) -> Any:
    return conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]


def create_context(
    conn: Connection,
    *,
    run_id: str | None,
    algorithm: str,
    parameters: str | None,
    dataset_name: str | None,
) -> int:
    """Insert a context and return its database id."""
    stmt = (
        sa.insert(contexts)
        .values(
            run_id=run_id,
            algorithm=algorithm,
            parameters=parameters,
            dataset_name=dataset_name,
            created_at=time.time(),
        )
        .returning(contexts.c.id)
    )
    return int(conn.execute(stmt).scalar_one())


def write_scores(
    conn: Connection,
    context_id: int,
    sample_ids: Sequence[int],
    scores: Sequence[float | None],
    predictions: Sequence[bool | None],
) -> int:
    """Append the scores of one (new) context; returns how many rows were written."""
    cursor = _dbapi_cursor(conn)
    try:
        if conn.dialect.name == "postgresql":
            _pg_copy_scores(cursor, context_id, sample_ids, scores, predictions)
        else:
            cursor.executemany(
                'INSERT INTO "outlier_score" ("context_id", "sample_id", "score", "prediction") '
                "VALUES (?, ?, ?, ?)",
                [(context_id, *row) for row in zip(sample_ids, scores, predictions, strict=True)],
            )
    finally:
        cursor.close()
    return len(sample_ids)


_COPY_SCORES = (
    f'COPY "{PG_SCHEMA}"."outlier_score" ("context_id", "sample_id", "score", "prediction") '
    "FROM STDIN (FORMAT BINARY)"
)
_PGCOPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, no extension
_PGCOPY_TRAILER = b"\xff\xff"


def _pg_copy_scores(
    cursor: Any,
    context_id: int,
    sample_ids: Sequence[int],
    scores: Sequence[float | None],
    predictions: Sequence[bool | None],
) -> None:
    """Binary COPY; without NULLs every row has the same layout, so numpy (when
    installed) builds the whole stream at once instead of one Python call per row."""
    payload = _fixed_width_copy(context_id, sample_ids, scores, predictions)
    with cursor.copy(_COPY_SCORES) as copy:
        if payload is not None:
            copy.write(payload)
            return
        copy.set_types(["int4", "int8", "float8", "bool"])
        for row in zip(sample_ids, scores, predictions, strict=True):
            copy.write_row((context_id, *row))


def _fixed_width_copy(
    context_id: int,
    sample_ids: Sequence[int],
    scores: Sequence[float | None],
    predictions: Sequence[bool | None],
) -> bytes | None:
    try:
        import numpy as np
    except ImportError:
        return None
    if None in scores or None in predictions:
        return None
    # Each row: field count, then (length, big-endian value) per field.
    layout = np.dtype(
        [
            ("fields", ">i2"),
            ("context_len", ">i4"),
            ("context_id", ">i4"),
            ("sample_len", ">i4"),
            ("sample_id", ">i8"),
            ("score_len", ">i4"),
            ("score", ">f8"),
            ("prediction_len", ">i4"),
            ("prediction", "u1"),
        ]
    )
    rows = np.empty(len(sample_ids), dtype=layout)
    rows["fields"] = 4
    rows["context_len"] = 4
    rows["context_id"] = context_id
    rows["sample_len"] = 8
    rows["sample_id"] = np.asarray(sample_ids, dtype=np.int64)
    rows["score_len"] = 8
    rows["score"] = np.asarray(scores, dtype=np.float64)
    rows["prediction_len"] = 1
    rows["prediction"] = np.asarray(predictions, dtype=np.bool_)
    return _PGCOPY_HEADER + rows.tobytes() + _PGCOPY_TRAILER


def upsert_samples(conn: Connection, rows: Sequence[tuple[int, str | None]]) -> int:
    """Insert or update samples given as ``(id, data as JSON text)``."""
    cursor = _dbapi_cursor(conn)
    try:
        if conn.dialect.name == "postgresql":
            cursor.execute(
                'CREATE TEMP TABLE IF NOT EXISTS "_waldo_stage_samples" '
                '("id" int8, "data" text) ON COMMIT DELETE ROWS'
            )
            with cursor.copy('COPY "_waldo_stage_samples" FROM STDIN (FORMAT BINARY)') as copy:
                copy.set_types(["int8", "text"])
                for row in rows:
                    copy.write_row(row)
            cursor.execute(
                f'INSERT INTO "{PG_SCHEMA}"."samples" ("id", "data") '
                'SELECT "id", "data"::jsonb FROM "_waldo_stage_samples" '
                'ON CONFLICT ("id") DO UPDATE SET "data" = excluded."data"'
            )
            cursor.execute('TRUNCATE "_waldo_stage_samples"')
        else:
            cursor.executemany(
                'INSERT INTO "samples" ("id", "data") VALUES (?, ?) '
                'ON CONFLICT ("id") DO UPDATE SET "data" = excluded."data"',
                rows,
            )
    finally:
        cursor.close()
    return len(rows)


def _count_scores(*conditions: Any) -> Any:
    """How many of a context's scores meet ``conditions``: a correlated count that walks
    only that context's slice of the (context_id, sample_id) primary key, so finding
    one context never aggregates every context's scores."""
    return (
        sa.select(sa.func.count())
        .where(outlier_score.c.context_id == contexts.c.id, *conditions)
        .correlate(contexts)
        .scalar_subquery()
    )


def find_contexts(
    conn: Connection,
    *,
    context_id: int | None = None,
    run_ids: Sequence[str] | None = None,
    algorithm: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Contexts, newest first, with their number of scored samples and outliers."""
    query = sa.select(
        contexts,
        _count_scores().label("samples"),
        _count_scores(outlier_score.c.prediction.is_(True)).label("outliers"),
    )
    if context_id is not None:
        query = query.where(contexts.c.id == context_id)
    if run_ids is not None:
        query = query.where(contexts.c.run_id.in_(list(run_ids)))
    if algorithm is not None:
        query = query.where(contexts.c.algorithm == algorithm)
    query = query.order_by(contexts.c.created_at.desc(), contexts.c.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return [dict(row._mapping) for row in conn.execute(query)]


def scores(
    conn: Connection,
    context_id: int,
    *,
    limit: int | None = None,
    ascending: bool = False,
    with_samples: bool = False,
) -> list[dict[str, Any]]:
    """A context's scores ordered by score (highest first unless ``ascending``)."""
    columns: list[Any] = [
        outlier_score.c.sample_id,
        outlier_score.c.score,
        outlier_score.c.prediction,
    ]
    source: Any = outlier_score
    if with_samples:
        columns.append(samples.c.data)
        source = outlier_score.outerjoin(samples, samples.c.id == outlier_score.c.sample_id)
    order = outlier_score.c.score.asc() if ascending else outlier_score.c.score.desc()
    query = (
        sa.select(*columns)
        .select_from(source)
        .where(outlier_score.c.context_id == context_id)
        .order_by(order.nulls_last(), outlier_score.c.sample_id)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = []
    for row in conn.execute(query):
        item = dict(row._mapping)
        if with_samples and isinstance(item.get("data"), str):
            item["data"] = json.loads(item["data"])
        rows.append(item)
    return rows


def score_columns(conn: Connection, context_id: int) -> tuple[list[int], list[Any], list[Any]]:
    """All scores of a context as three columns, ordered by sample id (for loading)."""
    cursor = conn.execute(
        sa.select(outlier_score.c.sample_id, outlier_score.c.score, outlier_score.c.prediction)
        .where(outlier_score.c.context_id == context_id)
        .order_by(outlier_score.c.sample_id)
    )
    ids: list[int] = []
    values: list[Any] = []
    predictions: list[Any] = []
    for sample_id, score, prediction in cursor:
        ids.append(sample_id)
        values.append(score)
        predictions.append(None if prediction is None else bool(prediction))
    return ids, values, predictions


def paired_scores(
    conn: Connection, context_a: int, context_b: int
) -> list[tuple[int, Any, Any, Any, Any]]:
    """``(sample_id, score_a, prediction_a, score_b, prediction_b)`` of shared samples."""
    a = outlier_score.alias("a")
    b = outlier_score.alias("b")
    query = (
        sa.select(a.c.sample_id, a.c.score, a.c.prediction, b.c.score, b.c.prediction)
        .select_from(a.join(b, a.c.sample_id == b.c.sample_id))
        .where(a.c.context_id == context_a, b.c.context_id == context_b)
        .order_by(a.c.sample_id)
    )
    return [tuple(row) for row in conn.execute(query)]  # type: ignore[misc]


def all_samples(conn: Connection) -> list[tuple[int, Any]]:
    """Every sample as ``(id, data)``, ordered by id."""
    rows = []
    for sample_id, data in conn.execute(sa.select(samples.c.id, samples.c.data).order_by("id")):
        rows.append((sample_id, json.loads(data) if isinstance(data, str) else data))
    return rows
