"""Kedro hooks that record every run into the Waldo journal.

Registered automatically through the ``kedro.hooks`` entry point: all eleven hooks of
the seed plus ``after_context_created`` write a row to ``events`` (``event_type`` is the
hook's name). Runs and node runs get their own rows, the catalog and pipeline are stored
as content-addressed snapshots.

The hooks never break a pipeline: every hook body runs under :func:`_guarded`, which
logs a recording problem once and carries on, unless ``strict: true`` is set in
``waldo.yml``. The node and dataset hooks note what happens to each node in its
:class:`~waldo.journal.NodeRecord` and hand it to ``Recorder.record_node`` as the node
starts to run and when it ends; the journal writer's thread turns it into rows.

With ``ParallelRunner`` node and dataset hooks run in worker processes: a worker
records under the parent's run (``waldo.kedro._run``) and flushes at the end of each
node, because pool workers exit without running ``atexit`` handlers.
"""

from __future__ import annotations

import functools
import logging
import os
import time
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar, cast

from kedro.framework.hooks import hook_impl

from waldo._errors import ConfigError
from waldo.fingerprint import DEFAULT_MAX_ROWS
from waldo.journal import (
    DatasetAccess,
    Decision,
    ErrorFields,
    History,
    NodeRecord,
    Recorder,
    Settings,
    get_recorder,
    mask_secrets,
)
from waldo.journal._node_record import NodeRecordStatus
from waldo.kedro._checks import ChecksFailed, RunChecks, pipeline_datasets, start_checks
from waldo.kedro._config import credentials_from_loader, settings_from_loader, strict_requested
from waldo.kedro._datasets import catalog_entries, dataset_of, is_parameter, unchanged_once_saved
from waldo.kedro._git import git_state
from waldo.kedro._notify import RunOutcome, notify
from waldo.kedro._preflight import PreflightError, preflight_options, run_preflight
from waldo.kedro._run import (
    RUN_CONTEXT_ENV,
    adopted_context,
    publish_context,
    run_info,
    withdraw_context,
)
from waldo.kedro._run_catalog import prepare_for_hooks
from waldo.kedro._site import publish_site
from waldo.kedro._snapshots import func_name, pipeline_content
from waldo.kedro._stats import saved_stats, stats_rows
from waldo.kedro._versions import Fingerprints, Version

log = logging.getLogger("waldo")
_BACKGROUND = ThreadPoolExecutor(max_workers=1, thread_name_prefix="waldo-prepare")

_instances: weakref.WeakSet[WaldoHooks] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for instance in list(_instances):
        instance._after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)

F = TypeVar("F", bound=Callable[..., Any])


def _guarded(method: F) -> F:
    """Run a hook body; a recording problem is logged once, or raised if strict."""

    @functools.wraps(method)
    def wrapper(self: WaldoHooks, *args: Any, **kwargs: Any) -> Any:
        if self._disabled:
            return None
        try:
            return method(self, *args, **kwargs)
        except (PreflightError, ChecksFailed):
            raise  # preflight and data checks with on_failure: fail exist to stop the run
        except Exception as exc:
            self._failed(method.__name__, exc)
            return None

    return cast(F, wrapper)


class WaldoHooks:
    """The hook implementations Kedro calls; one instance per process."""

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._recorder: Recorder | None = None
        self._run_id: str | None = None
        self._owner_pid: int | None = None  # the process that started the run
        self._pending_events: list[tuple[str, str | None, str | None, float]] = []
        self._catalog_hash: str | None = None
        self._project: str | None = None
        self._nodes: dict[str, NodeRecord] = {}  # the nodes running, by name
        # Datasets of this run kept in memory: the save a load of each takes its version from.
        self._saved_in_memory: dict[str, DatasetAccess] = {}
        _instances.add(self)
        self._warned: set[str] = set()
        self._disabled = False
        self._strict = False
        self._adopted: str | None = None
        self._loader: Any = None
        self._run_started: float | None = None
        self._pipelines: list[str] = []
        self._git: Future[tuple[str | None, bool | None]] | None = None
        self._config_error: ConfigError | None = None
        self._catalog: Any = None
        self._fingerprints: Fingerprints | None = None
        self._reasons: dict[str, str] = {}
        self._lineage: Any = None  # a waldo.lineage.LiveLineage while a run emits
        self._stats_rows: int | None = DEFAULT_MAX_ROWS  # None: no dataset statistics
        self._checks: RunChecks | None = None  # data checks of this run (checks: in waldo.yml)

    # -- helpers --------------------------------------------------------------------
    def _warn_once(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            log.warning("waldo: %s", message)

    def _use_settings(self, settings: Settings) -> None:
        self._settings = settings
        self._strict = settings.strict
        self._disabled = not settings.enabled
        self._recorder = None if self._disabled else get_recorder(settings)
        self._fingerprints = None
        self._stats_rows = stats_rows(settings.extra.get("stats", True))

    @property
    def fingerprints(self) -> Fingerprints | None:
        """Fingerprinting for the project being recorded (None when not recording)."""
        settings = self._settings
        if (
            self._fingerprints is None
            and settings is not None
            and not self._disabled
            and settings.extra.get("fingerprints", True) is not False
        ):
            self._fingerprints = Fingerprints(
                settings.project_path, settings.extra.get("fingerprints")
            )
        return self._fingerprints

    def incremental_context(
        self,
    ) -> tuple[Recorder, History, str | None, Fingerprints, str] | None:
        """What an incremental runner needs from the recording in progress."""
        fingerprints = self.fingerprints
        if self._recorder is None or self._run_id is None or fingerprints is None:
            return None
        history = History(self._recorder.store)
        return self._recorder, history, self._project, fingerprints, self._run_id

    def note_plan(self, decisions: list[Decision]) -> None:
        """Remember why each node of an incremental run runs (stored on its node run)."""
        self._reasons = {d.node: d.summary for d in decisions if d.run}

    def _start_lineage(
        self,
        recorder: Recorder,
        run_id: str,
        names: list[str],
        pipeline: Any,
        catalog: Any,
        datasets: list[str],
        root: Path,
    ) -> None:
        """Emit OpenLineage events live when ``lineage:`` is set; never fail the run."""
        self._lineage = None
        config = recorder.settings.extra.get("lineage")
        if not config:
            return
        try:
            from waldo.lineage import LiveLineage

            credentials = credentials_from_loader(self._loader) if self._loader is not None else {}
            lineage = LiveLineage.from_config(config, root, credentials)
            lineage.run_started(
                run_id,
                self._project,
                names,
                sorted(pipeline.inputs()),
                sorted(pipeline.all_outputs()),
                entries=catalog_entries(catalog, datasets),
                project_path=root,
            )
            self._lineage = lineage
        except Exception as exc:  # a lineage problem never fails the run, strict or not
            self._warn_once(f"no OpenLineage events for this run: {exc}")

    def _emit_lineage(self, method: str, *args: Any) -> None:
        lineage = self._lineage
        if lineage is None or self._in_worker():
            return
        try:
            getattr(lineage, method)(*args)
        except Exception as exc:
            self._warn_once(f"could not emit OpenLineage events: {exc}")

    def _in_worker(self) -> bool:
        return self._owner_pid != os.getpid()

    def _worker_recorder(self) -> Recorder | None:
        """In a ParallelRunner worker, adopt the parent's run from the environment."""
        raw = os.environ.get(RUN_CONTEXT_ENV)
        if not raw:
            return self._recorder
        if raw == self._adopted:
            return self._recorder
        self._adopted = raw
        adopted = adopted_context(raw)
        if self._run_id != adopted.run_id or self._recorder is None:
            self._use_settings(adopted.settings)
            self._run_id = adopted.run_id
            if self._recorder is not None and adopted.checked_datasets:
                # A spawned worker: the checks of the datasets it may save.
                self._checks = start_checks(
                    self._recorder, adopted.run_id, adopted.checked_datasets, None
                )
        return self._recorder

    def _active(self) -> tuple[Recorder, str] | None:
        recorder = self._worker_recorder() if self._in_worker() else self._recorder
        if recorder is None or self._run_id is None:
            return None
        return recorder, self._run_id

    def _event_before_run(
        self, event_type: str, target_name: str | None, target_id: str | None = None
    ) -> None:
        self._pending_events.append((event_type, target_name, target_id, time.time()))

    # -- context and catalog (before the run id exists) --------------------------------
    @hook_impl
    @_guarded
    def after_context_created(self, context: Any) -> None:
        project_path = Path(context.project_path)
        self._project = project_path.name
        self._owner_pid = os.getpid()
        self._config_error = None
        self._loader = context.config_loader
        try:
            settings = settings_from_loader(context.config_loader, project_path)
        except ConfigError as exc:
            # Not recording this session: one warning (or, if strict, the run fails).
            self._config_error = exc
            self._recorder = None
            self._strict = strict_requested(context.config_loader)
            if self._strict:
                raise
            raise ConfigError(f"not recording this run: {exc}") from exc
        self._use_settings(settings)
        self._event_before_run("after_context_created", self._project)
        if self._recorder is not None:
            # While Kedro builds the catalog and pipelines: ask git for the commit and
            # connect to the store, so the run starts without waiting for either.
            self._recorder.prepare_store()
            self._git = _BACKGROUND.submit(git_state, project_path)

    @hook_impl
    @_guarded
    def after_catalog_created(
        self, catalog: Any, conf_catalog: dict[str, Any], conf_creds: dict[str, Any]
    ) -> None:
        if self._recorder is None:
            return
        content = mask_secrets(conf_catalog or {}, conf_creds or {})
        self._catalog_hash = self._recorder.snapshot("catalogs", content)
        self._event_before_run("after_catalog_created", "catalog", self._catalog_hash[:8])

    # -- pipeline -------------------------------------------------------------------
    @hook_impl
    @_guarded
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Any, catalog: Any = None
    ) -> None:
        project_path = Path(run_params.get("project_path") or Path.cwd())
        if self._recorder is None and not self._disabled and self._config_error is None:
            from waldo.kedro._config import settings_for_project

            self._use_settings(settings_for_project(project_path, run_params.get("env")))
        recorder = self._recorder
        if recorder is None:
            return
        self._owner_pid = os.getpid()
        run_id = str(run_params["run_id"])
        self._run_id = run_id
        self._nodes = {}
        self._saved_in_memory = {}
        self._reasons = {}
        self._catalog = catalog
        recorder.prepare_store()
        recorder.check_store()
        recorder.replay_spool_in_background()
        # paths: rules and the data branch (done once, by whichever hook asks first)
        run_catalog = prepare_for_hooks(catalog, pipeline, self._loader, run_params)
        names = list(run_params.get("pipeline_names") or ["__default__"])
        self._pipelines = names
        content = pipeline_content(pipeline, self.fingerprints)
        pipeline_hash = recorder.snapshot(
            "pipelines", content, name="+".join(names), json_ready=True
        )
        git = self._git.result() if self._git is not None else git_state(project_path)
        self._git = None
        self._run_started = time.time()  # the run's start, as recorded
        recorder.start_run(
            run_info(
                run_params,
                self._project or project_path.name,
                project_path,
                git,
                (self._catalog_hash, pipeline_hash),
                (run_catalog.rewrites, run_catalog.branch),
            )
        )
        for event_type, target_name, target_id, ts in self._pending_events:
            recorder.event(run_id, event_type, target_name, target_id, timestamp=ts)
        self._pending_events = []
        recorder.event(run_id, "before_pipeline_run", names[0], pipeline_hash[:8])
        datasets = pipeline_datasets(pipeline)
        self._start_lineage(recorder, run_id, names, pipeline, catalog, datasets, project_path)
        options = preflight_options(recorder.settings.extra.get("preflight"))
        if options:
            try:
                run_preflight(pipeline, catalog, options, project_path)
            except PreflightError as exc:
                recorder.event(run_id, "on_pipeline_error", "pipeline")
                recorder.end_run(run_id, "failed", exc)
                self._emit_lineage("run_finished", "failed", exc)
                self._run_id = None
                recorder.flush()
                raise
        self._checks = start_checks(recorder, run_id, datasets, catalog, self._lineage)
        publish_context(run_id, recorder.settings, datasets if self._checks is not None else [])

    def _finish_run(self, status: str, event_type: str, error: BaseException | None) -> None:
        withdraw_context()
        active = self._active()
        if active is None:
            return
        recorder, run_id = active
        self._checks = None
        self._end_unfinished(error)
        recorder.event(run_id, event_type, "pipeline")
        recorder.end_run(run_id, status, error)
        ended = time.time()  # the run's end, as recorded: what a notification reports
        self._run_id = None
        try:
            recorder.flush()  # first: the writer's thread fingerprints files it was left
            if self._fingerprints is not None:
                self._fingerprints.save()
        finally:
            self._emit_lineage("run_finished", status, error)
            self._lineage = None
            self._notify(recorder, run_id, status, error, ended)
            publish_site(recorder, run_id)  # static_site: in waldo.yml

    def _notify(
        self,
        recorder: Recorder,
        run_id: str,
        status: str,
        error: BaseException | None,
        ended: float,
    ) -> None:
        config = recorder.settings.extra.get("notify")
        if not config:
            return
        started = self._run_started
        outcome = RunOutcome(
            run_id=run_id,
            project=self._project,
            pipelines=self._pipelines,
            status=status,
            duration_s=(ended - started) if started is not None else None,
            error=f"{type(error).__name__}: {error}" if error is not None else None,
        )
        credentials = credentials_from_loader(self._loader) if self._loader is not None else {}
        notify(config, outcome, credentials)

    @hook_impl
    @_guarded
    def after_pipeline_run(self, run_params: dict[str, Any]) -> None:
        checks = self._checks  # the `when: pipeline_end` checks belong to the run
        failure = checks.at_pipeline_end() if checks is not None else None
        self._finish_run("failed" if failure else "success", "after_pipeline_run", failure)
        if failure is not None:
            raise failure  # on_failure: fail

    @hook_impl
    @_guarded
    def on_pipeline_error(self, error: Exception, run_params: dict[str, Any]) -> None:
        self._finish_run("failed", "on_pipeline_error", error)

    # -- nodes and datasets: one NodeRecord per running node ------------------------
    # Each hook notes what happened in the node's record; the record goes to the
    # recorder as the node starts to run (its live row) and when it ends. What cannot
    # wait is noted there and then: the hashes of the parameters a node reads, and the
    # version of a value that could still change. A value nothing can change any more
    # (a file just written, a copy kept in memory) is fingerprinted on the writer's
    # thread instead (``DatasetAccess.later``).
    def _failed(self, hook: str, exc: Exception) -> None:
        """A recording problem in ``hook``: warned once, or raised if strict."""
        if self._strict:
            raise exc
        if isinstance(exc, ConfigError):
            self._warn_once(str(exc))
        else:
            self._warn_once(f"could not record {hook}: {exc}")

    def _after_fork(self) -> None:
        """In a forked child (a ParallelRunner worker): the nodes running are the parent's."""
        self._nodes = {}

    def _record(self, node: Any) -> NodeRecord | None:
        """The record of ``node`` in the run being recorded (created by its first
        hook), or None when no run is recorded here."""
        active = self._active()
        if active is None:
            return None
        record = self._nodes.get(node.name)
        if record is None:
            record = NodeRecord(active[1], node.name, os.getpid(), time.time())
            self._nodes[node.name] = record
        return record

    @hook_impl
    @_guarded
    def before_dataset_loaded(self, dataset_name: str, node: Any) -> None:
        record = self._record(node)
        if record is not None:
            record.loads.append(DatasetAccess(dataset_name, time.time()))

    @hook_impl
    @_guarded
    def after_dataset_loaded(self, dataset_name: str, data: Any, node: Any) -> None:
        record = self._record(node)
        if record is None:
            return
        load = _access(record.loads, dataset_name)
        load.ended_at = time.time()
        fingerprints = self.fingerprints
        if fingerprints is None or is_parameter(dataset_name):
            return
        load.versioned = True
        saved = self._saved_in_memory.get(dataset_name)
        if saved is not None:  # its version is the one its save recorded
            load.later = functools.partial(_same_version, saved)
            return
        _, path = fingerprints.location(self._catalog, dataset_name)
        if path is not None:  # no node of the run writes a file after it is read
            load.later = functools.partial(_file_version, fingerprints, path)
        else:  # the node may change what it was given: fingerprint it now
            _set_version(load, fingerprints.dataset(self._catalog, dataset_name, data, True))

    @hook_impl
    @_guarded
    def before_node_run(
        self, node: Any, catalog: Any = None, inputs: dict[str, Any] | None = None
    ) -> None:
        record = self._record(node)
        if record is None:
            return
        if catalog is not None:
            self._catalog = catalog
        record.ran_at = time.time()
        record.func_name = func_name(node)
        record.reason = self._reasons.get(node.name)
        fingerprints = self.fingerprints
        if fingerprints is not None:
            record.code_hash = fingerprints.code(node.func)
            params = {k: v for k, v in (inputs or {}).items() if is_parameter(k)}
            record.params_hashes = fingerprints.params(params) if params else {}
        self._recorder_of_run().record_node(record)  # its live row: it shows as running
        if self._lineage is not None:
            self._emit_lineage(
                "node_started", node.name, list(node.inputs), list(node.outputs), record.ran_at
            )

    @hook_impl
    @_guarded
    def after_node_run(self, node: Any, outputs: dict[str, Any]) -> None:
        record = self._record(node)
        if record is None:
            return
        record.ran_until = time.time()
        if not outputs:
            self._end_node(record, "success", record.ran_until)

    @hook_impl
    @_guarded
    def on_node_error(self, error: Exception, node: Any) -> None:
        record = self._record(node)
        if record is not None:
            record.error = ErrorFields.of(error)
            self._end_node(record, "failed", time.time())

    @hook_impl
    @_guarded
    def before_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        record = self._record(node)
        if record is not None:
            record.saves.append(DatasetAccess(dataset_name, time.time()))

    @hook_impl
    @_guarded
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        record = self._record(node)
        if record is None:
            return
        save = _access(record.saves, dataset_name)
        save.ended_at = time.time()
        self._note_saved_version(save, data)
        if self._checks is not None:  # data checks on the value just saved
            failure = self._checks.after_save(node.name, dataset_name, data, save.version)
            if failure is not None:  # on_failure: fail: the node fails, the run stops
                record.error = ErrorFields.of(failure)
                self._end_node(record, "failed", save.ended_at)
                raise failure
        if len(record.saves) == len(node.outputs):  # its last output is saved
            self._end_node(record, "success", save.ended_at)

    def _note_saved_version(self, save: DatasetAccess, data: Any) -> None:
        """The version and statistics of a value just saved: on the writer's thread
        when nothing can change it any more (and no data check waits for them)."""
        fingerprints = self.fingerprints
        name = save.dataset
        if fingerprints is None or is_parameter(name):
            return
        save.versioned = True
        persisted, path = fingerprints.location(self._catalog, name)
        work = functools.partial(self._saved_version, fingerprints, data, path)
        if not persisted:
            self._saved_in_memory[name] = save
        if self._checks is None and (
            persisted or unchanged_once_saved(dataset_of(self._catalog, name), data)
        ):
            save.later = work
        else:
            work(save)

    def _saved_version(
        self, fingerprints: Fingerprints, data: Any, path: Path | None, save: DatasetAccess
    ) -> None:
        _set_version(save, fingerprints.of_value(save.dataset, data, path))
        if self._stats_rows is not None:
            save.stats = saved_stats(data, save.path, self._stats_rows)

    def _end_node(self, record: NodeRecord, status: NodeRecordStatus, when: float) -> None:
        """A node ended: its record goes to the recorder, never to change again."""
        self._nodes.pop(record.node_name, None)
        record.status = status
        record.finished_at = when
        recorder = self._recorder_of_run()
        recorder.record_node(record)
        if self._lineage is not None and status != "stopped":
            error = asdict(record.error) if record.error is not None else None
            self._emit_lineage("node_finished", record.node_name, status, error, when)
        if self._in_worker():  # a ParallelRunner worker exits without atexit
            recorder.flush()
            if self._fingerprints is not None:
                self._fingerprints.save()

    def _end_unfinished(self, error: BaseException | None) -> None:
        """At the run's end: a node that ran but whose outputs were not all saved
        failed with the run; one still loading keeps its events (``stopped``)."""
        for record in list(self._nodes.values()):
            if error is not None and record.ran_until is not None:
                record.error = ErrorFields.of(error)
                self._end_node(record, "failed", time.time())
            else:
                self._end_node(record, "stopped", time.time())

    def _recorder_of_run(self) -> Recorder:
        active = self._active()
        assert active is not None  # asked only while a node of the run is recorded
        return active[0]


def _access(accesses: list[DatasetAccess], dataset: str) -> DatasetAccess:
    """The load or save of ``dataset`` under way (its before_ hook added it)."""
    for access in reversed(accesses):
        if access.dataset == dataset and access.ended_at is None:
            return access
    access = DatasetAccess(dataset, time.time())  # its before_ hook was not recorded
    accesses.append(access)
    return access


def _set_version(access: DatasetAccess, version: Version) -> None:
    access.version, access.data_digest, access.data_kind, access.path = version


def _file_version(fingerprints: Fingerprints, path: Path, load: DatasetAccess) -> None:
    _set_version(load, Version(fingerprints.file_version(path), path=str(path)))


def _same_version(saved: DatasetAccess, load: DatasetAccess) -> None:
    """A load of a value kept in memory: the version its save recorded."""
    load.version, load.data_digest = saved.version, saved.data_digest
    load.data_kind, load.path = saved.data_kind, saved.path


hooks = WaldoHooks()
"""The instance Kedro registers through the ``kedro.hooks`` entry point."""
