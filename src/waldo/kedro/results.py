"""Kedro datasets for the results store: per-sample model output and the samples.

``catalog.yml``::

    samples:
      type: waldo.kedro.SamplesDataset        # a frame with an `id` column

    iforest_scores:
      type: waldo.kedro.ScoresDataset
      algorithm: isolation_forest
      parameters: {n_estimators: 100}       # optional; or set frame.attrs["parameters"]

A saved frame has one row per sample: ``sample_id`` (or ``id``), ``score`` and,
optionally, ``prediction`` (True for an outlier). Each save creates a *context* (the
Waldo run saving it, the algorithm and its parameters) and writes the rows with a binary
``COPY`` on PostgreSQL. Loading returns the newest context's rows joined with their
context: ``context_id, run_id, algorithm, parameters, sample_id, score, prediction``.

Results go to the Waldo journal of the run (``store:`` of waldo.yml, or the default
SQLite file), unless the entry names another database with ``credentials: {con: URL}``.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro.io import AbstractDataset, DatasetError

from waldo._errors import WaldoError
from waldo.journal import Results, find_project_root
from waldo.kedro._run import RUN_CONTEXT_ENV
from waldo.store import Store

if TYPE_CHECKING:
    import pandas as pd

_STORES: dict[str, Store] = {}
_STORES_LOCK = threading.Lock()


def _run_context() -> dict[str, Any]:
    raw = os.environ.get(RUN_CONTEXT_ENV)
    return json.loads(raw) if raw else {}


def _results(con: str | None) -> Results:
    """The results API of the explicit database, else the journal of the current run."""
    url = con or _run_context().get("store_url")
    if not url:
        from waldo.kedro._config import settings_for_project

        url = settings_for_project(find_project_root(Path.cwd())).store_url
    with _STORES_LOCK:
        store = _STORES.get(url)
        if store is None:
            store = _STORES[url] = Store(url)
    return Results(store)


def _with_nulls(column: pd.Series) -> list[Any]:
    """Column values as Python objects, missing ones (NaN, NA) as None."""
    if column.isna().any():
        return [
            None if missing else value
            for value, missing in zip(column.tolist(), column.isna(), strict=True)
        ]
    return column.tolist()  # type: ignore[no-any-return]


class ScoresDataset(AbstractDataset["pd.DataFrame", "pd.DataFrame"]):
    """A model's per-sample scores and predictions, saved under a context."""

    def __init__(
        self,
        *,
        algorithm: str,
        parameters: dict[str, Any] | None = None,
        credentials: dict[str, Any] | None = None,
        load_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if not algorithm:
            raise DatasetError("ScoresDataset needs an `algorithm` name.")
        self._algorithm = str(algorithm)
        self._parameters = parameters
        self._con = (credentials or {}).get("con")
        self._load_args = dict(load_args or {})
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"algorithm": self._algorithm, "parameters": self._parameters}

    def _save(self, data: pd.DataFrame) -> None:
        columns = set(map(str, data.columns))
        id_column = "sample_id" if "sample_id" in columns else "id"
        missing = [c for c in (id_column, "score") if c not in columns]
        if missing:
            raise DatasetError(
                f"ScoresDataset {self._algorithm!r}: the frame lacks column(s) "
                f"{', '.join(missing)} (it has {', '.join(map(str, data.columns)) or 'none'}); "
                "it needs `sample_id` (or `id`), `score` and optionally `prediction`."
            )
        parameters = data.attrs.get("parameters", self._parameters)
        try:
            sample_ids = data[id_column].astype("int64").tolist()
            score = data["score"].astype("float64")
            predictions = data["prediction"].astype("boolean") if "prediction" in columns else None
        except (TypeError, ValueError) as exc:
            raise DatasetError(
                f"ScoresDataset {self._algorithm!r}: sample ids must be integers, scores "
                f"numbers and predictions booleans ({exc})."
            ) from exc
        try:
            _results(self._con).save_scores(
                algorithm=self._algorithm,
                sample_ids=sample_ids,
                scores=_with_nulls(score),
                predictions=None if predictions is None else _with_nulls(predictions),
                parameters=parameters,
                run_id=_run_context().get("run_id"),
            )
        except WaldoError as exc:
            raise DatasetError(f"ScoresDataset {self._algorithm!r}: {exc}") from exc

    def _load(self) -> pd.DataFrame:
        import pandas as pd

        results = _results(self._con)
        try:
            context_ref = self._load_args.get("context")
            if context_ref is not None:
                context = results.context(context_ref)
            else:
                run = self._load_args.get("run")
                found = results.contexts(run=run, algorithm=self._algorithm, limit=1)
                if not found:
                    raise DatasetError(
                        f"ScoresDataset {self._algorithm!r}: no results saved yet "
                        "(run the node that saves them first)."
                    )
                context = found[0]
            ids, scores, predictions = results.score_columns(context.id)
        except WaldoError as exc:
            raise DatasetError(f"ScoresDataset {self._algorithm!r}: {exc}") from exc
        frame = pd.DataFrame(
            {
                "context_id": context.id,
                "run_id": context.run_id,
                "algorithm": context.algorithm,
                "parameters": json.dumps(context.parameters, sort_keys=True),
                "sample_id": pd.Series(ids, dtype="int64"),
                "score": pd.Series(scores, dtype="float64"),
                "prediction": pd.Series(predictions, dtype="boolean"),
            }
        )
        frame.attrs["parameters"] = context.parameters
        return frame


class SamplesDataset(AbstractDataset["pd.DataFrame", "pd.DataFrame"]):
    """The samples results refer to: a frame with an ``id`` column, upserted by id.

    ``id`` is the only required column (as in the original plugin); the others are
    stored with each sample and come back on load.
    """

    def __init__(
        self,
        *,
        credentials: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._con = (credentials or {}).get("con")
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"table": "samples"}

    def _save(self, data: pd.DataFrame) -> None:
        if "id" not in map(str, data.columns):
            raise DatasetError(
                "SamplesDataset: the frame needs an `id` column (it has "
                f"{', '.join(map(str, data.columns)) or 'none'})."
            )
        others = data.drop(columns=["id"])
        try:
            ids = [int(v) for v in data["id"].tolist()]
            rows = others.to_dict(orient="records") if len(others.columns) else None
            _results(self._con).save_samples(ids, rows)
        except (TypeError, ValueError) as exc:
            raise DatasetError(f"SamplesDataset: sample ids must be integers ({exc}).") from exc
        except WaldoError as exc:
            raise DatasetError(f"SamplesDataset: {exc}") from exc

    def _load(self) -> pd.DataFrame:
        import pandas as pd

        try:
            rows = _results(self._con).samples()
        except WaldoError as exc:
            raise DatasetError(f"SamplesDataset: {exc}") from exc
        return pd.DataFrame([{"id": sample_id, **(data or {})} for sample_id, data in rows])
