"""Kedro hooks that record every run into the Waldo journal.

Registered automatically through the ``kedro.hooks`` entry point: all eleven hooks of
the seed plus ``after_context_created`` write a row to ``events`` (``event_type`` is the
hook's name). Runs and node runs get their own rows, the catalog and pipeline are stored
as content-addressed snapshots.

The hooks never break a pipeline: every hook body runs under :func:`_guarded`, which
logs a recording problem once and carries on, unless ``strict: true`` is set in
``waldo.yml`` (the node and dataset hooks, which fire several times per node, catch
the same way themselves through ``_failed``: one Python call less each). The node and
dataset hooks only note what happened in a list; each time the journal writer's thread
wakes, it names the nodes in what was noted and ships it, and the writer's helper
process derives each node's trail from it (``waldo.journal._derive``).

With ``ParallelRunner`` node and dataset hooks run in worker processes. The parent
publishes the run id and store settings in the ``WALDO_RUN_CONTEXT`` environment
variable before the workers start (fork and spawn both inherit it); a worker records
under the parent's run and flushes at the end of each node, because pool workers exit
without running ``atexit`` handlers.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar, cast

from kedro.framework.hooks import hook_impl

from waldo._errors import ConfigError
from waldo.fingerprint import DEFAULT_MAX_ROWS, data_stats
from waldo.journal import (
    AS_SAVED,
    NO_PARAMS,
    Decision,
    Entry,
    History,
    Recorder,
    RunInfo,
    Settings,
    TrailDeriver,
    describe_error,
    get_recorder,
    last_timestamp,
    mask_secrets,
    split_trail,
    stats_text,
)
from waldo.kedro._checks import ChecksFailed, RunChecks, pipeline_datasets, start_checks
from waldo.kedro._config import credentials_from_loader, settings_from_loader, strict_requested
from waldo.kedro._datasets import catalog_entries, is_parameter
from waldo.kedro._git import git_state
from waldo.kedro._notify import RunOutcome, notify
from waldo.kedro._preflight import PreflightError, preflight_options, run_preflight
from waldo.kedro._run_catalog import prepare_for_hooks
from waldo.kedro._site import publish_site
from waldo.kedro._snapshots import func_name, pipeline_content, runner_name
from waldo.kedro._versions import Fingerprints

log = logging.getLogger("waldo")
_BACKGROUND = ThreadPoolExecutor(max_workers=1, thread_name_prefix="waldo-prepare")

# os.getpid() is a system call; the hooks ask on every call, so keep it current here.
_current_pid = [os.getpid()]
os.register_at_fork(after_in_child=lambda: _current_pid.__setitem__(0, os.getpid()))

_instances: weakref.WeakSet[WaldoHooks] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for instance in list(_instances):
        instance._after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)

RUN_CONTEXT_ENV = "WALDO_RUN_CONTEXT"
#: The settings of ``waldo.yml`` a ParallelRunner worker needs from its parent.
WORKER_SETTINGS = ("fingerprints", "checks", "on_failure")
# When this many nodes are left, the writer switches to small batches (see
# Recorder.ending_soon): the full batch under way by then is written before the end.
TAIL_NODES = 32
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


# The hot path's entries (see "nodes and datasets" in WaldoHooks), by what happened:
# module globals, one lookup each in the hooks.
_LOAD_START, _LOADED, _RUN, _RAN = Entry.CODES[:4]
_SAVE_START, _SAVED, _SAVED_VALUE, _ERROR = Entry.CODES[4:]
# Saved values that cannot change after the save: fingerprinted when derived, not in
# the hook (a trivial node's output is often one of these).
_IMMUTABLE = frozenset({int, float, complex, bool, str, bytes, type(None)})


class WaldoHooks:
    """The hook implementations Kedro calls; one instance per process."""

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._recorder: Recorder | None = None
        self._run_id: str | None = None
        # The process recording a run right now (the one that started it), or None:
        # the hot-path hooks compare it with the current pid, one test for both.
        self._recording_pid: int | None = None
        self._owner_pid: int | None = None
        self._pending_events: list[tuple[str, str | None, str | None, float]] = []
        self._catalog_hash: str | None = None
        self._project: str | None = None
        # The hot path's entries, five values each (see "nodes and datasets" below);
        # the name of each node they were shipped with, by id(node) (the nodes kept
        # alive, so that no other takes their id); in a process that derives the
        # trails itself, the deriver.
        self._raw: list[Any] = []
        self._node_names: dict[int, str] = {}
        self._named_nodes: list[Any] = []
        self._deriver: TrailDeriver | None = None
        self._derive_lock = threading.Lock()
        self._saved_in_memory: set[str] = set()  # datasets of this run kept in memory
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
        self._reads_journal = False  # an incremental runner will query the journal
        self._stats_rows: int | None = DEFAULT_MAX_ROWS  # None: no dataset statistics
        self._nodes_left = 0  # nodes of the run that have not run yet in this process
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
        if self._recorder is not None:
            self._recorder.when_writer_wakes(self._on_writer_wake)
        self._fingerprints = None
        self._stats_rows = _stats_rows(settings.extra.get("stats", True))

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

    def expect_journal_reads(self) -> None:
        """An incremental runner will query the journal in this process before the run:
        connect to the store in the background from the start, not on first query."""
        self._reads_journal = True

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
                entries=catalog_entries(catalog, pipeline_datasets(pipeline)),
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
        return self._owner_pid != _current_pid[0]

    def _worker_recorder(self) -> Recorder | None:
        """In a ParallelRunner worker, adopt the parent's run from the environment."""
        raw = os.environ.get(RUN_CONTEXT_ENV)
        if not raw:
            return self._recorder
        if raw == self._adopted:
            return self._recorder
        data = json.loads(raw)
        self._adopted = raw
        if self._run_id != data["run_id"] or self._recorder is None:
            settings = Settings(
                store_url=data["store_url"],
                project_path=Path(data["project_path"]),
                spool_dir=Path(data["spool_dir"]),
                strict=bool(data["strict"]),
                heartbeat_seconds=float(data["heartbeat_seconds"]),
                source="parent run",
                extra=data.get("extra") or {},
            )
            self._use_settings(settings)
            self._run_id = data["run_id"]
            if self._recorder is not None and data.get("checked_datasets"):
                # A spawned worker: the checks of the datasets it may save.
                self._checks = start_checks(
                    self._recorder, self._run_id, data["checked_datasets"], None
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
            # While Kedro builds the catalog and pipelines: ask git for the commit and,
            # for an incremental runner that reads the journal first, connect to the
            # store, so the run starts without waiting for either. The writer's helper
            # process starts with the run (before_pipeline_run), not now: Kedro's own
            # start-up is when libraries spin up their thread pools, and a third busy
            # process there takes CPU from the pipeline on a two-core machine.
            if self._reads_journal:
                self._recorder.prepare_store(in_process=True)
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
        self._recording_pid = self._owner_pid
        self._start_capture()
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
        self._nodes_left = len(content["nodes"])
        pipeline_hash = recorder.snapshot(
            "pipelines", content, name="+".join(names), json_ready=True
        )
        sha, dirty = self._git.result() if self._git is not None else git_state(project_path)
        self._git = None
        import kedro

        self._run_started = time.time()  # the run's start, as recorded
        recorder.start_run(
            RunInfo(
                run_id=run_id,
                kind="kedro",
                project=self._project or project_path.name,
                project_path=str(project_path),
                pipeline_names=names,
                env=run_params.get("env") or "local",
                runtime_params=dict(run_params.get("runtime_params") or {}),
                run_params={
                    **{
                        k: v
                        for k, v in run_params.items()
                        if k not in ("runtime_params", "run_id", "project_path")
                    },
                    "path_rewrites": run_catalog.rewrites,
                    "data_branch": run_catalog.branch,
                },
                kedro_version=run_params.get("kedro_version") or kedro.__version__,
                git_sha=sha,
                git_dirty=dirty,
                runner=runner_name(run_params),
                catalog_hash=self._catalog_hash,
                pipeline_hash=pipeline_hash,
            )
        )
        for event_type, target_name, target_id, ts in self._pending_events:
            recorder.event(run_id, event_type, target_name, target_id, timestamp=ts)
        self._pending_events = []
        recorder.event(run_id, "before_pipeline_run", names[0], pipeline_hash[:8])
        self._start_lineage(recorder, run_id, names, pipeline, catalog, project_path)
        options = preflight_options(recorder.settings.extra.get("preflight"))
        if options:
            try:
                run_preflight(pipeline, catalog, options, project_path)
            except PreflightError as exc:
                recorder.event(run_id, "on_pipeline_error", "pipeline")
                recorder.end_run(run_id, "failed", exc)
                self._emit_lineage("run_finished", "failed", exc)
                self._run_id = self._recording_pid = None
                recorder.flush()
                raise
        datasets = pipeline_datasets(pipeline)
        self._checks = start_checks(recorder, run_id, datasets, catalog, self._lineage)
        settings = recorder.settings
        os.environ[RUN_CONTEXT_ENV] = json.dumps(
            {
                "run_id": run_id,
                "store_url": settings.store_url,
                "project_path": str(settings.project_path),
                "spool_dir": str(settings.spool_dir),
                "strict": settings.strict,
                "heartbeat_seconds": settings.heartbeat_seconds,
                "extra": {k: v for k, v in settings.extra.items() if k in WORKER_SETTINGS},
                "checked_datasets": datasets if self._checks is not None else [],
            }
        )

    def _finish_run(self, status: str, event_type: str, error: BaseException | None) -> None:
        os.environ.pop(RUN_CONTEXT_ENV, None)
        active = self._active()
        if active is None:
            return
        recorder, run_id = active
        self._checks = None
        self._derive(final=True, error=error)
        recorder.event(run_id, event_type, "pipeline")
        recorder.end_run(run_id, status, error)
        ended = time.time()  # the run's end, as recorded: what a notification reports
        self._run_id = self._recording_pid = None
        if self._fingerprints is not None:
            self._fingerprints.save()
        try:
            recorder.flush()
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

    # -- nodes and datasets: the hot path ----------------------------------------------
    # Node and dataset hooks fire six or more times per node. Each only appends one
    # fixed-width entry, ``(code, node, dataset, timestamp, payload)``, to ``_raw``, a
    # flat list (one object for the garbage collector however long it grows); what
    # cannot wait is computed there and then and travels as the payload: the hashes of
    # the parameters a node reads, the version of a file just written or of data that
    # could change (payloads are plain values: they travel to the writer's helper).
    # ``_derive`` passes the entries on in a batch, on the writer's thread each time
    # it wakes, to have their node trails derived (see ``_derive``). The hooks skip
    # ``_guarded`` (one Python call less each) and guard themselves the same way
    # through ``_failed``; ``_recording_here`` is only asked when this process is not
    # plainly the one recording a run (``_recording_pid``).
    def _failed(self, hook: str, exc: Exception) -> None:
        """A recording problem in ``hook``: warned once, or raised if strict (for
        ``_guarded`` and the hot-path hooks alike)."""
        if self._strict:
            raise exc
        if isinstance(exc, ConfigError):
            self._warn_once(str(exc))
        else:
            self._warn_once(f"could not record {hook}: {exc}")

    def _recording_here(self) -> bool:
        """Is a run being recorded in this process (a ParallelRunner worker adopts its
        parent's)? The hot-path hooks ask only when not the process that started it."""
        return not self._disabled and self._active() is not None

    def _derive_now(self) -> bool:
        """Should a hook derive its node's trail at once rather than leave it to the
        writer? In the run's last nodes (the writer then sends small batches, so that
        the final flush finds little to write) and in a ParallelRunner worker (which
        flushes after each node, as pool workers exit without ``atexit``)."""
        return self._nodes_left <= TAIL_NODES or self._recording_pid != _current_pid[0]

    @hook_impl
    def before_dataset_loaded(self, dataset_name: str, node: Any) -> None:
        if self._recording_pid != _current_pid[0] and not self._recording_here():
            return
        self._raw += (_LOAD_START, node, dataset_name, time.time(), None)

    @hook_impl
    def after_dataset_loaded(self, dataset_name: str, data: Any, node: Any) -> None:
        if self._recording_pid != _current_pid[0] and not self._recording_here():
            return
        try:
            now = time.time()
            fingerprints = self._fingerprints or self.fingerprints
            if fingerprints is None or is_parameter(dataset_name):
                payload: Any = None
            elif dataset_name in self._saved_in_memory:
                payload = AS_SAVED  # its version is the one its save recorded
            else:  # the node may change what it was given: fingerprint it now
                payload = tuple(
                    fingerprints.dataset(self._catalog, dataset_name, data, has_data=True)
                )
            self._raw += (_LOADED, node, dataset_name, now, payload)
        except Exception as exc:
            self._failed("after_dataset_loaded", exc)

    @hook_impl
    def before_node_run(
        self, node: Any, catalog: Any = None, inputs: dict[str, Any] | None = None
    ) -> None:
        if self._recording_pid != _current_pid[0] and not self._recording_here():
            return
        try:
            now = time.time()
            if catalog is not None:
                self._catalog = catalog
            params_hashes: Any = None
            fingerprints = self._fingerprints or self.fingerprints
            if fingerprints is not None:
                params = {k: v for k, v in inputs.items() if is_parameter(k)} if inputs else None
                params_hashes = fingerprints.params(params) if params else NO_PARAMS
            self._raw += (_RUN, node, None, now, params_hashes)
            if self._lineage is not None:  # building the lists costs more than the call
                self._emit_lineage(
                    "node_started", node.name, list(node.inputs), list(node.outputs), now
                )
        except PreflightError:
            raise
        except Exception as exc:
            self._failed("before_node_run", exc)

    @hook_impl
    def after_node_run(self, node: Any, outputs: dict[str, Any]) -> None:
        if self._recording_pid != _current_pid[0] and not self._recording_here():
            return
        try:
            self._raw += (_RAN, node, None, time.time(), None)
            self._nodes_left -= 1
            if self._nodes_left == TAIL_NODES:
                recorder = self._recorder
                if recorder is not None:
                    recorder.ending_soon()
            if not outputs and self._derive_now():  # else its last save passes it on
                self._derive()
        except Exception as exc:
            self._failed("after_node_run", exc)

    @hook_impl
    @_guarded
    def on_node_error(self, error: Exception, node: Any) -> None:
        if self._active() is None:
            return
        self._raw += (_ERROR, node, None, time.time(), error)
        self._derive()  # the failed node's row goes to the writer before the run ends

    @hook_impl
    def before_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        if self._recording_pid != _current_pid[0] and not self._recording_here():
            return
        self._raw += (_SAVE_START, node, dataset_name, time.time(), None)

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        if self._recording_pid != _current_pid[0] and not self._recording_here():
            return
        failure: ChecksFailed | None = None
        try:
            now = time.time()
            fingerprints = self._fingerprints or self.fingerprints
            code = _SAVED
            payload: Any = None
            if fingerprints is not None and not is_parameter(dataset_name):
                persisted, path = fingerprints.location(self._catalog, dataset_name)
                if not persisted:
                    self._saved_in_memory.add(dataset_name)
                if path is None and not persisted and type(data) in _IMMUTABLE:
                    code, payload = _SAVED_VALUE, data  # cannot change: hashed later
                else:
                    payload = self._saved_version(fingerprints, dataset_name, data)
            if self._checks is not None:  # data checks on the value just saved
                version = payload[0][0] if code == _SAVED and payload else None
                failure = self._checks.after_save(node.name, dataset_name, data, version)
            if failure is not None:  # on_failure: fail: the node fails, the run stops
                code, payload = _ERROR, failure
            self._raw += (code, node, dataset_name, now, payload)
            if failure is not None or self._derive_now():
                self._derive()
        except Exception as exc:
            self._failed("after_dataset_saved", exc)
        if failure is not None:
            raise failure

    def _saved_version(
        self, fingerprints: Fingerprints, dataset_name: str, data: Any
    ) -> tuple[tuple[str | None, ...], str | None]:
        """The version of a dataset just saved (a plain tuple: it travels to the
        writer's helper), and its statistics as JSON text."""
        version = fingerprints.dataset(self._catalog, dataset_name, data, has_data=True)
        stats = None if self._stats_rows is None else self._stats(data, version.path)
        return tuple(version), stats

    # -- node trails: derived from the hot path's entries ---------------------------------
    def _start_capture(self) -> None:
        """A run starts: no entry, named node or in-memory dataset of an earlier one."""
        with self._derive_lock:
            del self._raw[:]
            self._node_names = {}
            self._named_nodes = []
            self._deriver = None
        self._saved_in_memory = set()

    def _after_fork(self) -> None:
        """In a forked child: the lock may have been held by the parent's writer thread,
        and the entries not derived yet are the parent's to send."""
        self._derive_lock = threading.Lock()
        self._raw = []
        self._node_names = {}
        self._named_nodes = []
        self._deriver = None

    def _on_writer_wake(self) -> None:
        """On the writer's thread, each time it wakes (at most every half second): the
        entries noted since go to the writer, with the live row of every node that
        runs as they end (``waldo show`` and the web page see it run). Never waits:
        if a hook is passing entries on right now, the next wake-up will."""
        if self._raw:
            self._derive(announce=True, wait=False)

    def _derive(
        self,
        announce: bool = False,
        wait: bool = True,
        final: bool = False,
        error: BaseException | None = None,
    ) -> None:
        """Pass the hot path's entries on, to have their node trails derived.

        Entries are taken in the order the hooks appended them, under a lock, so they
        go on in that order whichever thread takes them: the writer's when it wakes,
        the pipeline's in a run's last nodes, in a worker and at the run's end
        (``final``: every node still unfinished is sent as it is; ``error`` is why the
        run failed). Taking an entry removes it, so none goes twice. They go to the
        writer as they are, nodes named, and the writer's helper derives the trails;
        a ParallelRunner worker (which must send each node's end at once) and a run
        emitting OpenLineage events (which follow each node's end) derive them here.
        """
        lock = self._derive_lock
        if not lock.acquire(blocking=wait):
            return
        try:
            recorder, run_id = self._recorder, self._run_id
            if recorder is None or run_id is None:
                return
            raw = self._raw
            taken = len(raw)
            if not taken and not final:
                return
            entries = raw[:taken]
            del raw[:taken]  # the hooks only ever append: what they add now stays
            facts = self._name_nodes(entries)
            if self._lineage is None and not self._in_worker():
                recorder.node_entries(run_id, entries, facts, announce, final, error)
                return
            deriver = self._deriver
            if deriver is None:
                deriver = self._deriver = TrailDeriver(run_id, recorder.pid)
            fields = describe_error(error) if error is not None else None
            trails = deriver.feed(entries, facts, announce, final, fields)
        finally:
            lock.release()
        problems, deriver.problems = deriver.problems, []
        for problem in problems:  # "could not record <hook>: <why>", as _failed says it
            if self._strict:
                raise RuntimeError(problem)
            self._warn_once(problem)
        self._send_derived(recorder, trails)

    def _name_nodes(self, entries: list[Any]) -> list[Any]:
        """Put each node's name in place of the node in ``entries`` (a node cannot
        travel to another process); return the facts of the nodes not named before.
        Errors are described the same way (an exception may not travel either)."""
        width = Entry.WIDTH
        nodes = entries[1::width]
        names = list(map(self._node_names.get, map(id, nodes)))
        facts: list[Any] = []
        if None in names:
            for at, name in enumerate(names):
                if name is None:
                    names[at] = self._name_node(nodes[at], facts)
        entries[1::width] = names
        if _ERROR in entries[0::width]:
            for at in range(0, len(entries), width):
                if entries[at] == _ERROR and isinstance(entries[at + 4], BaseException):
                    entries[at + 4] = describe_error(entries[at + 4])
        return facts

    def _name_node(self, node: Any, facts: list[Any]) -> str:
        """A node's name, and its facts (see ``waldo.journal._derive``) the first time."""
        known = self._node_names.get(id(node))
        if known is not None:  # a node seen earlier in the same batch
            return known
        name: str = node.name
        fingerprints = self._fingerprints
        code_hash = fingerprints.code(node.func) if fingerprints is not None else None
        facts += (name, func_name(node), code_hash, tuple(node.outputs), self._reasons.get(name))
        self._node_names[id(node)] = name
        self._named_nodes.append(node)
        return name

    def _send_derived(self, recorder: Recorder, trails: list[tuple[Any, ...]]) -> None:
        """Trails derived in this process: to the writer; each ended node's OpenLineage
        event; a ParallelRunner worker flushes when one of its nodes ended."""
        if not trails:
            return
        recorder.trail_records(trails)
        split = (split_trail(record[1:]) for record in trails)  # record[0]: its table
        ended = [(t, steps) for t, steps in split if t.status not in (None, "running")]
        if ended and self._lineage is not None:
            for t, steps in ended:
                when = last_timestamp(steps)
                self._emit_lineage("node_finished", t.node_name, t.status, t.error, when)
        if ended and self._in_worker():  # a ParallelRunner worker flushes after each node
            if self._fingerprints is not None:
                self._fingerprints.save()
            recorder.flush()

    def _stats(self, data: Any, path: str | None) -> str | None:
        """Statistics of a saved dataset as JSON text (see :func:`_stats_rows`)."""
        stats = data_stats(data, self._stats_rows or 0)
        if path is not None:
            size = _size_on_disk(Path(path))
            if size is not None:
                stats = {**(stats or {"kind": "file"}), "bytes": size}
        return stats_text(stats)


def _stats_rows(option: Any) -> int | None:
    """How many rows of a saved table its statistics read, from ``stats:`` in waldo.yml
    (``false``: no statistics; ``{max_rows: N}``: the first N rows of long tables)."""
    if option is False:
        return None
    if isinstance(option, dict):
        return int(option.get("max_rows", DEFAULT_MAX_ROWS))
    return DEFAULT_MAX_ROWS


def _size_on_disk(path: Path) -> int | None:
    try:
        if path.is_dir():
            return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        return path.stat().st_size
    except OSError:
        return None


hooks = WaldoHooks()
"""The instance Kedro registers through the ``kedro.hooks`` entry point."""
