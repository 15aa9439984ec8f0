"""The results store: per-sample model output saved under a context, and read back.

The original Waldo plugin kept a model's output in ``samples``, ``contexts`` and
``outlier_score``: a *context* is one model applied in one run (the run id, the
algorithm and its parameters) and each of its rows scores one sample. This module is
the domain API over those tables: save scores and samples, find contexts, list the
top-scored samples of one, and compare two contexts (Spearman rank correlation of their
scores and agreement of their predictions over the samples both scored).

A context is named by its integer id, by an algorithm (its newest context), or by
``RUN:ALGORITHM`` where RUN is anything ``waldo show`` accepts (``latest``, a prefix).
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from waldo._errors import ContextNotFound, InvalidInput
from waldo.journal._history import History
from waldo.journal._jsonsafe import json_safe
from waldo.store import Store, results


@dataclass(frozen=True)
class ResultContext:
    """One model applied in one run: what a set of scores was produced by."""

    id: int
    run_id: str | None
    algorithm: str
    parameters: Any
    dataset_name: str | None
    created_at: datetime | None
    samples: int
    outliers: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "run_id": self.run_id,
            "algorithm": self.algorithm,
            "parameters": self.parameters,
            "dataset_name": self.dataset_name,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "samples": self.samples,
            "outliers": self.outliers,
        }


@dataclass(frozen=True)
class Comparison:
    """How two contexts agree over the samples both of them scored."""

    a: ResultContext
    b: ResultContext
    common: int
    spearman: float | None
    agreement: float | None
    both_outliers: int
    only_a: int
    only_b: int
    neither: int
    top_k: int
    top_overlap: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a.to_dict(),
            "b": self.b.to_dict(),
            "common_samples": self.common,
            "spearman": self.spearman,
            "prediction_agreement": self.agreement,
            "both_outliers": self.both_outliers,
            "only_a_outlier": self.only_a,
            "only_b_outlier": self.only_b,
            "neither_outlier": self.neither,
            "top_k": self.top_k,
            "top_k_overlap": self.top_overlap,
        }


def _context(row: Mapping[str, Any]) -> ResultContext:
    parameters = row.get("parameters")
    if isinstance(parameters, str):
        # Stored by another tool as plain text? Then show it as it is.
        with contextlib.suppress(ValueError):
            parameters = json.loads(parameters)
    return ResultContext(
        id=int(row["id"]),
        run_id=row.get("run_id"),
        algorithm=row["algorithm"],
        parameters=parameters,
        dataset_name=row.get("dataset_name"),
        created_at=row.get("created_at"),
        samples=int(row.get("samples") or 0),
        outliers=int(row.get("outliers") or 0),
    )


def parameters_text(parameters: Any) -> str | None:
    """Parameters as canonical JSON text (sorted keys), the seed's ``text`` column."""
    if parameters is None:
        return None
    return json.dumps(json_safe(parameters, "result parameters"), sort_keys=True)


def average_ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks, ties sharing their average rank (as Spearman's rho needs)."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        rank = (start + end) / 2 + 1
        for position in range(start, end + 1):
            ranks[order[position]] = rank
        start = end + 1
    return ranks


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Spearman's rank correlation; None with fewer than two pairs or a constant side."""
    if len(xs) != len(ys):
        raise ValueError("spearman() needs two sequences of the same length")
    if len(xs) < 2:
        return None
    rx, ry = average_ranks(xs), average_ranks(ys)
    mean = (len(xs) + 1) / 2
    cov = sum((a - mean) * (b - mean) for a, b in zip(rx, ry, strict=True))
    var_x = sum((a - mean) ** 2 for a in rx)
    var_y = sum((b - mean) ** 2 for b in ry)
    if var_x == 0 or var_y == 0:
        return None
    return cov / math.sqrt(var_x * var_y)


class Results:
    """Save and query model results in one store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.history = History(store)

    # -- writing --------------------------------------------------------------------
    def save_scores(
        self,
        *,
        algorithm: str,
        sample_ids: Iterable[int],
        scores: Iterable[float | None],
        predictions: Iterable[bool | None] | None = None,
        parameters: Any = None,
        run_id: str | None = None,
        dataset_name: str | None = None,
    ) -> int:
        """Save one model's per-sample output under a new context; returns its id.

        The context and its scores are written in one transaction: a failed save leaves
        no half-filled context behind.
        """
        if not algorithm:
            raise InvalidInput("Results need an algorithm name for their context.")
        ids = list(sample_ids)
        values = list(scores)
        preds: list[bool | None] = [None] * len(ids) if predictions is None else list(predictions)
        if not len(ids) == len(values) == len(preds):
            raise InvalidInput(
                f"Results for {algorithm!r}: {len(ids)} sample ids, {len(values)} scores "
                f"and {len(preds)} predictions; give one of each per sample."
            )
        if len(set(ids)) != len(ids):
            raise InvalidInput(f"Results for {algorithm!r}: sample ids must be unique.")
        with self.store.connect() as conn:
            context_id = results.create_context(
                conn,
                run_id=run_id,
                algorithm=algorithm,
                parameters=parameters_text(parameters),
                dataset_name=dataset_name,
            )
            results.write_scores(conn, context_id, ids, values, preds)
        return context_id

    def save_samples(
        self, sample_ids: Sequence[int], data: Sequence[Mapping[str, Any]] | None = None
    ) -> int:
        """Insert or update samples by id; ``data`` holds each sample's other columns."""
        if data is not None and len(data) != len(sample_ids):
            raise InvalidInput("save_samples(): one data mapping per sample id.")
        if len(set(sample_ids)) != len(sample_ids):
            raise InvalidInput("Samples need unique ids.")
        rows = [
            (
                int(sample_id),
                None
                if data is None or not data[i]
                else json.dumps(json_safe(dict(data[i]), "sample"), sort_keys=True),
            )
            for i, sample_id in enumerate(sample_ids)
        ]
        return self.store.run(results.upsert_samples, rows)

    # -- reading --------------------------------------------------------------------
    def contexts(
        self, *, run: str | None = None, algorithm: str | None = None, limit: int | None = None
    ) -> list[ResultContext]:
        """Contexts, newest first; ``run`` takes anything ``waldo show`` accepts."""
        run_ids = [self.history.resolve_run_id(run)] if run else None
        rows = self.store.run(
            results.find_contexts, run_ids=run_ids, algorithm=algorithm, limit=limit
        )
        return [_context(row) for row in rows]

    def context(self, ref: str | int) -> ResultContext:
        """A context by id, by algorithm (its newest), or by ``RUN:ALGORITHM``."""
        text = str(ref).strip()
        if text.isdigit():
            rows = self.store.run(results.find_contexts, context_id=int(text))
            if rows:
                return _context(rows[0])
            raise ContextNotFound(
                f"No results context {text}; `waldo results contexts` lists them."
            )
        run, _, algorithm = text.rpartition(":")
        found = self.contexts(run=run or None, algorithm=algorithm, limit=1)
        if found:
            return found[0]
        where = f" in run {run}" if run else ""
        raise ContextNotFound(
            f"No results of algorithm {algorithm!r}{where}; `waldo results contexts` lists them."
        )

    def top(self, ref: str | int, k: int = 10, ascending: bool = False) -> list[dict[str, Any]]:
        """The ``k`` samples with the highest scores (lowest with ``ascending``)."""
        if k < 1:
            raise InvalidInput("k must be at least 1.")
        context = self.context(ref)
        return self.store.run(
            results.scores, context.id, limit=k, ascending=ascending, with_samples=True
        )

    def score_columns(self, context_id: int) -> tuple[list[int], list[Any], list[Any]]:
        """Sample ids, scores and predictions of a context, ordered by sample id."""
        return self.store.run(results.score_columns, context_id)

    def samples(self) -> list[tuple[int, Any]]:
        """Every stored sample as ``(id, data)``."""
        return self.store.run(results.all_samples)

    def compare(self, ref_a: str | int, ref_b: str | int, top_k: int = 10) -> Comparison:
        """Rank correlation and prediction agreement of two contexts."""
        a, b = self.context(ref_a), self.context(ref_b)
        pairs = self.store.run(results.paired_scores, a.id, b.id)
        scored = [(sa, sb) for _, sa, _, sb, _ in pairs if sa is not None and sb is not None]
        rho = spearman([p[0] for p in scored], [p[1] for p in scored])
        both = only_a = only_b = neither = 0
        for _, _, pa, _, pb in pairs:
            if pa is None or pb is None:
                continue
            if pa and pb:
                both += 1
            elif pa:
                only_a += 1
            elif pb:
                only_b += 1
            else:
                neither += 1
        judged = both + only_a + only_b + neither
        top_a = {row["sample_id"] for row in self.store.run(results.scores, a.id, limit=top_k)}
        top_b = {row["sample_id"] for row in self.store.run(results.scores, b.id, limit=top_k)}
        return Comparison(
            a=a,
            b=b,
            common=len(pairs),
            spearman=rho,
            agreement=(both + neither) / judged if judged else None,
            both_outliers=both,
            only_a=only_a,
            only_b=only_b,
            neither=neither,
            top_k=top_k,
            top_overlap=len(top_a & top_b),
        )
