"""Versioned tables with Dolt: a Kedro dataset and the hooks that commit every run.

- :class:`DoltTableDataset` saves a pandas DataFrame to a table of a Dolt database
  (``doltlite`` file by default; a ``dolt sql-server`` through a ``mysql+pymysql://``
  URL in ``credentials: {con: ...}``) and loads it back.
- :data:`dolt_hooks` (entry point ``kedro.hooks: waldo_dolt``) prepares every run's
  catalog: ``paths:`` rules and the data branch (``--params waldo_branch=NAME`` or
  ``dolt_branch=NAME``, or ``branch: {from: git}``) apply to every dataset, factory
  datasets included (``waldo.kedro._run_catalog``; with or without a Dolt database).
  When ``waldo.yml`` names a database (``dolt: {database: data/warehouse.db}``):

  * a run on a data branch runs on the Dolt branch of that name (created from the
    current branch when missing). Dolt's checkout is per connection, so the database's
    own current branch is never moved: after the run, on failure too, every later
    connection is on the original branch again.
  * after a successful run the database is committed with a message holding the run
    id and the runtime parameters, only when a table changed; the commit hash is
    recorded on the run in the journal (event ``dolt_commit``).
  * a failed run commits nothing: what its nodes saved stays in the working set of
    the branch, uncommitted, as after a failed ``git commit -a``; the next successful
    run commits it together with its own changes.

Dolt work runs in one worker process per Kedro process, started on first use (or in
process when doltlite was loaded first; see :mod:`waldo.kedro._dolt_client`), so the
``doltlite`` import-order trap cannot bite inside a ``kedro run``.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro.framework.hooks import hook_impl
from kedro.io import AbstractDataset, DatasetError

from waldo.journal import get_recorder, mask_params
from waldo.kedro._branches import BranchLocalDataset, branch_path
from waldo.kedro._config import settings_from_loader, strict_requested, waldo_config
from waldo.kedro._dolt_client import (
    BRANCH_ENV,
    DATABASE_ENV,
    DoltError,
    call,
    database_from_config,
)
from waldo.kedro._entries import remember_catalog_config
from waldo.kedro._run_catalog import prepare_for_hooks

if TYPE_CHECKING:  # pandas is imported on first load/save: the hooks run in every project
    import pandas as pd

log = logging.getLogger("waldo")

__all__ = ["BranchLocalDataset", "DoltHooks", "DoltTableDataset", "branch_path", "dolt_hooks"]

COMMIT_EVENT = "dolt_commit"
_MODES = ("replace", "append", "upsert")


def _sql_type(dtype: Any) -> str:
    """The column type a Dolt table gets for a pandas dtype."""
    kind = getattr(dtype, "kind", "O")
    return {"i": "INTEGER", "u": "INTEGER", "b": "INTEGER", "f": "REAL"}.get(kind, "TEXT")


def _column_values(column: pd.Series) -> list[Any]:
    """A column as plain Python values for the database: None for every missing value,
    datetimes as ISO text (as Python's sqlite3 writes them)."""
    if column.dtype.kind == "M":
        column = column.map(lambda v: v.isoformat(" "), na_action="ignore")
    if column.hasnans:
        column = column.astype(object).where(column.notna(), None)
    values: list[Any] = column.tolist()
    return values


class DoltTableDataset(AbstractDataset["pd.DataFrame", "pd.DataFrame"]):
    """A pandas DataFrame stored as a table of a Dolt database.

    ``catalog.yml``::

        prices:
          type: waldo.kedro.DoltTableDataset
          table_name: prices
          primary_key: [id]
          database: data/warehouse.db    # default: waldo.yml's dolt.database
          save_args: {if_exists: replace}  # or append, upsert

    A frame without one of the primary-key columns raises a ``DatasetError`` naming it.
    """

    def __init__(
        self,
        *,
        table_name: str,
        primary_key: str | list[str],
        database: str | None = None,
        credentials: dict[str, Any] | None = None,
        save_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if not table_name:
            raise DatasetError("DoltTableDataset needs a `table_name`.")
        keys = [primary_key] if isinstance(primary_key, str) else list(primary_key or [])
        if not keys:
            raise DatasetError(f"DoltTableDataset {table_name!r} needs a `primary_key`.")
        self._table = table_name
        self._keys = [str(k) for k in keys]
        self._database = database
        self._con = (credentials or {}).get("con")
        self._mode = str((save_args or {}).get("if_exists", "replace"))
        if self._mode not in _MODES:
            raise DatasetError(f"save_args.if_exists must be one of {', '.join(_MODES)}.")
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"table_name": self._table, "primary_key": self._keys, "database": self._db()}

    def _db(self) -> str:
        database = self._database or os.environ.get(DATABASE_ENV)
        if not database:
            raise DatasetError(
                f"DoltTableDataset {self._table!r}: no database. Set `database:` in the "
                "catalog entry or `dolt: {database: ...}` in conf/base/waldo.yml."
            )
        return str(Path(database).expanduser().resolve())

    def _check_keys(self, data: pd.DataFrame) -> None:
        missing = [k for k in self._keys if k not in data.columns]
        if missing:
            raise DatasetError(
                f"DoltTableDataset {self._table!r}: the frame lacks primary-key column(s) "
                f"{', '.join(missing)} (it has {', '.join(map(str, data.columns))})."
            )
        if data.duplicated(subset=self._keys).any():
            raise DatasetError(
                f"DoltTableDataset {self._table!r}: duplicate primary keys "
                f"({', '.join(self._keys)}) in the frame."
            )

    def save(self, data: pd.DataFrame) -> None:
        self._check_keys(data)
        if self._con:
            self._server_save(data)
            return
        self._call(
            "save",
            primary_key=self._keys,
            if_exists=self._mode,
            columns=[str(c) for c in data.columns],
            types=[_sql_type(dtype) for dtype in data.dtypes],
            values=[_column_values(data.iloc[:, i]) for i in range(data.shape[1])],
        )

    def load(self) -> pd.DataFrame:
        if self._con:
            return self._server_load()
        import pandas as pd

        table = self._call("load")
        # as pandas.read_sql builds its frame from the rows of a query
        return pd.DataFrame.from_records(table["rows"], columns=table["columns"], coerce_float=True)

    def _exists(self) -> bool:
        try:
            if self._con:
                self._server_load()
                return True
            return bool(self._call("exists"))
        except DatasetError:
            return False

    def _call(self, op: str, **request: Any) -> Any:
        try:
            return call(
                op,
                database=self._db(),
                table=self._table,
                branch=os.environ.get(BRANCH_ENV),
                **request,
            )
        except DoltError as exc:
            raise DatasetError(f"DoltTableDataset {self._table!r}: {exc}") from exc

    # -- dolt sql-server (MySQL protocol); not tested here: no server on CI ------------
    def _server_engine(self) -> Any:
        import sqlalchemy as sa

        engine = sa.create_engine(str(self._con))
        branch = os.environ.get(BRANCH_ENV)
        if branch:

            @sa.event.listens_for(engine, "connect")
            def _checkout(dbapi_conn: Any, _record: Any) -> None:
                cur = dbapi_conn.cursor()
                cur.execute("CALL DOLT_CHECKOUT(%s)", (branch,))
                cur.close()

        return engine

    def _server_save(self, data: pd.DataFrame) -> None:
        mode = "append" if self._mode == "append" else "replace"
        data.to_sql(self._table, self._server_engine(), if_exists=mode, index=False)

    def _server_load(self) -> pd.DataFrame:
        import pandas as pd

        return pd.read_sql_table(self._table, self._server_engine())


class DoltHooks:
    """Prepare each run's catalog (paths, data branch); commit the Dolt database after
    each successful run."""

    def __init__(self) -> None:
        self._database: Path | None = None
        self._loader: Any = None
        self._project_path: Path | None = None
        self._saved_env: dict[str, str | None] = {}

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self._project_path = Path(context.project_path)
        self._loader = context.config_loader
        try:
            self._database = database_from_config(self._project_path, waldo_config(self._loader))
        except Exception as exc:  # a bad waldo.yml must not break the run
            log.warning("waldo: Dolt disabled: %s", exc)
            self._database = None

    def _set_env(self, name: str, value: str | None) -> None:
        self._saved_env.setdefault(name, os.environ.get(name))
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value

    def _restore_env(self) -> None:
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env.clear()

    @hook_impl
    def after_catalog_created(
        self, catalog: Any, conf_catalog: dict[str, Any], conf_creds: dict[str, Any]
    ) -> None:
        # Kept for the incremental runner, which compares catalog entries (only Kedro's
        # hooks see the configuration; the runner gets the catalog object).
        remember_catalog_config(catalog, conf_catalog, conf_creds)

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        # First of all hooks: paths and the data branch apply to every dataset before
        # anything records or reads one; a refused branch run stops here.
        branch = prepare_for_hooks(catalog, pipeline, self._loader, run_params).branch
        # DoltTableDataset reads the branch from the environment, with or without a
        # database in waldo.yml (its own `database:` too).
        self._set_env(BRANCH_ENV, branch)
        if self._database is None:
            return
        self._set_env(DATABASE_ENV, str(self._database))
        if branch:
            self._database.parent.mkdir(parents=True, exist_ok=True)
            created = call("ensure_branch", database=str(self._database), branch=branch)
            log.info("waldo: Dolt branch %s%s for this run", branch, " (new)" if created else "")

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any]) -> None:
        if self._database is None:
            self._restore_env()
            return
        try:
            self._commit(run_params)
        except Exception as exc:  # never break a finished pipeline over the commit...
            if self._loader is not None and strict_requested(self._loader):
                raise  # ...unless the user asked for strict mode
            log.warning("waldo: could not commit the Dolt database: %s", exc)
        finally:
            self._restore_env()

    @hook_impl
    def on_pipeline_error(self, error: Exception, run_params: dict[str, Any]) -> None:
        # Nothing is committed; the branch's working set keeps what the nodes saved.
        self._restore_env()

    def _commit(self, run_params: dict[str, Any]) -> None:
        if self._database is None or not self._database.exists():
            return
        run_id = str(run_params.get("run_id"))
        params = mask_params(run_params.get("runtime_params") or {})  # no secret in Dolt
        message = f"waldo run {run_id}\n\nruntime params: {json.dumps(params, sort_keys=True)}"
        result = call(
            "commit",
            database=str(self._database),
            message=message,
            branch=os.environ.get(BRANCH_ENV),
        )
        commit = result.get("commit")
        if not commit:
            log.info("waldo: Dolt database unchanged; nothing to commit")
            return
        log.info("waldo: Dolt commit %s on %s", commit[:12], result.get("branch"))
        if self._loader is not None and self._project_path is not None:
            settings = settings_from_loader(self._loader, self._project_path)
            recorder = get_recorder(settings)
            recorder.event(run_id, COMMIT_EVENT, commit, target_id=commit[:8])
            recorder.flush()


dolt_hooks = DoltHooks()
