"""Versioned tables with Dolt: a Kedro dataset and the hooks that commit every run.

- :class:`DoltTableDataset` saves a pandas DataFrame to a table of a Dolt database
  (``doltlite`` file by default; a ``dolt sql-server`` through a ``mysql+pymysql://``
  URL in ``credentials: {con: ...}``) and loads it back.
- :data:`dolt_hooks` (entry point ``kedro.hooks: waldo_dolt``) works only when
  ``waldo.yml`` names a database (``dolt: {database: data/warehouse.db}``):

  * ``kedro run --params waldo_branch=NAME`` runs on branch NAME (created from the
    current branch when missing). Dolt's checkout is per connection, so the database's
    own current branch is never moved: after the run, on failure too, every later
    connection is on the original branch again.
  * after a successful run the database is committed with a message holding the run
    id and the runtime parameters, only when a table changed; the commit hash is
    recorded on the run in the journal (event ``dolt_commit``).
  * with a branch set, plain file datasets of ``catalog.yml`` are branch-local:
    saves go to ``<stem>@<branch>.<suffix>`` next to the file, loads read that copy
    when it exists and the main file otherwise (the catalog is rewritten in
    ``after_catalog_created``; this works with or without a Dolt database).
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
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro.framework.hooks import hook_impl
from kedro.io import AbstractDataset, DatasetError

from waldo.journal import get_recorder, mask_params
from waldo.kedro._config import settings_from_loader, strict_requested, waldo_config
from waldo.kedro._dolt_client import (
    BRANCH_ENV,
    DATABASE_ENV,
    DoltError,
    call,
    database_from_config,
)

if TYPE_CHECKING:  # pandas is imported on first load/save: the hooks run in every project
    import pandas as pd

log = logging.getLogger("waldo")

BRANCH_PARAM = "waldo_branch"
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


class BranchLocalDataset(AbstractDataset[Any, Any]):
    """A file dataset on a branch: saves go to the branch copy of the file; loads read
    the branch copy when it exists and the main copy otherwise ("steel toes")."""

    def __init__(self, main: AbstractDataset[Any, Any], branch: AbstractDataset[Any, Any]):
        self._main = main
        self._branch = branch

    def _describe(self) -> dict[str, Any]:
        return {"main": self._main._describe(), "branch": self._branch._describe()}

    def load(self) -> Any:
        return (self._branch if self._branch.exists() else self._main).load()

    def save(self, data: Any) -> None:
        self._branch.save(data)

    def _exists(self) -> bool:
        return self._branch.exists() or self._main.exists()


def branch_path(filepath: str, branch: str) -> str:
    """``data/summary.csv`` on branch ``exp`` -> ``data/summary@exp.csv``."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", branch)
    head, sep, name = filepath.rpartition("/")
    stem, dot, suffix = name.partition(".")
    return f"{head}{sep}{stem}@{safe}{dot}{suffix}"


def branch_catalog(catalog: Any, conf_catalog: dict[str, Any], branch: str) -> list[str]:
    """Swap each plain file dataset of ``catalog`` for its branch-local twin.

    Only entries written out in ``catalog.yml`` with a ``filepath`` and no
    ``credentials`` are switched (factory patterns and remote stores are left as is).
    """
    switched = []
    for name, config in conf_catalog.items():
        if "{" in name or not isinstance(config, dict):
            continue
        filepath = config.get("filepath")
        if not isinstance(filepath, str) or config.get("credentials") or name not in catalog:
            continue
        twin = dict(config, filepath=branch_path(filepath, branch))
        try:
            copy = AbstractDataset.from_config(name, twin)
            catalog[name] = BranchLocalDataset(catalog.get(name), copy)
        except Exception as exc:  # leave a dataset we cannot rebuild on main's file
            log.warning("waldo: %s stays on its main file on branch %s: %s", name, branch, exc)
            continue
        switched.append(name)
    return switched


class DoltHooks:
    """Commit the Dolt database after each successful run; run on a branch on request."""

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
        self, catalog: Any, conf_catalog: dict[str, Any], parameters: dict[str, Any]
    ) -> None:
        # Kedro passes the catalog's parameter entries: "parameters", "params:<name>"
        branch = (parameters or {}).get(f"params:{BRANCH_PARAM}")
        if branch:
            switched = branch_catalog(catalog, conf_catalog or {}, str(branch))
            if switched:
                log.info("waldo: branch-local files on %s: %s", branch, ", ".join(switched))

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        if self._database is None:
            return
        self._set_env(DATABASE_ENV, str(self._database))
        branch = (run_params.get("runtime_params") or {}).get(BRANCH_PARAM)
        self._set_env(BRANCH_ENV, str(branch) if branch else None)
        if branch:
            self._database.parent.mkdir(parents=True, exist_ok=True)
            created = call("ensure_branch", database=str(self._database), branch=str(branch))
            log.info("waldo: Dolt branch %s%s for this run", branch, " (new)" if created else "")

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any]) -> None:
        if self._database is None:
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
