"""Kedro hooks that record every run into the Waldo journal.

Registered automatically through the ``kedro.hooks`` entry point: all eleven hooks of
the seed plus ``after_context_created`` write a row to ``events`` (``event_type`` is the
hook's name). Runs and node runs get their own rows, the catalog and pipeline are stored
as content-addressed snapshots.

The hooks never break a pipeline: every hook body runs under :func:`_guarded`, which
logs a recording problem once and carries on, unless ``strict: true`` is set in
``waldo.yml`` (the node and dataset hooks, which fire several times per node, catch
the same way themselves through ``_failed``: one Python call less each). Hooks only
enqueue; the store's writer thread does the I/O.

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
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar, cast

from kedro.framework.hooks import hook_impl

from waldo._errors import ConfigError
from waldo.fingerprint import DEFAULT_MAX_ROWS, data_stats
from waldo.journal import (
    Decision,
    History,
    Recorder,
    RunInfo,
    Settings,
    dataset_step,
    get_recorder,
    mask_secrets,
    node_step,
    stats_text,
)
from waldo.kedro._config import credentials_from_loader, settings_from_loader, strict_requested
from waldo.kedro._datasets import is_parameter
from waldo.kedro._git import git_state
from waldo.kedro._notify import RunOutcome, notify
from waldo.kedro._paths import path_rules, rewrite_catalog
from waldo.kedro._preflight import PreflightError, preflight_options, run_preflight
from waldo.kedro._snapshots import func_name, pipeline_content, runner_name
from waldo.kedro._versions import Fingerprints, Version

log = logging.getLogger("waldo")
_BACKGROUND = ThreadPoolExecutor(max_workers=1, thread_name_prefix="waldo-prepare")

# os.getpid() is a system call; the hooks ask on every call, so keep it current here.
_current_pid = [os.getpid()]
os.register_at_fork(after_in_child=lambda: _current_pid.__setitem__(0, os.getpid()))

RUN_CONTEXT_ENV = "WALDO_RUN_CONTEXT"
# When this many nodes are left, the writer switches to small batches (see
# Recorder.ending_soon): the full batch under way by then is written before the end.
TAIL_NODES = 32
_NO_PARAMS: Mapping[str, str] = MappingProxyType({})  # a node that reads no parameter
F = TypeVar("F", bound=Callable[..., Any])


def _guarded(method: F) -> F:
    """Run a hook body; a recording problem is logged once, or raised if strict."""

    @functools.wraps(method)
    def wrapper(self: WaldoHooks, *args: Any, **kwargs: Any) -> Any:
        if self._disabled:
            return None
        try:
            return method(self, *args, **kwargs)
        except PreflightError:
            raise  # preflight exists to stop the run
        except Exception as exc:
            self._failed(method.__name__, exc)
            return None

    return cast(F, wrapper)


class _NodeState:
    """What the hooks learn about one node between its first load and its last save:
    the steps of its trail (``waldo.journal.node_step``), sent to the writer when the
    node ends, and before that when the writer wakes while it runs (its live row)."""

    __slots__ = (
        "announced",
        "code_hash",
        "func",
        "live_steps",
        "name",
        "node",
        "params_hashes",
        "pending_saves",
        "started",
        "steps",
    )

    def __init__(self, node: Any) -> None:
        self.node = node  # kept, so that its id (the state's key) stays its own
        self.name: str = node.name if node is not None else ""
        self.started: float | None = None
        self.func: str | None = None  # set when it starts running (before_node_run)
        self.code_hash: str | None = None
        self.params_hashes: Mapping[str, str] | None = None
        self.steps: list[Any] = []  # flat: see waldo.journal.node_step
        self.live_steps = 0  # its loads and before_node_run: what a live row may send
        self.announced = False  # its live row (steps[:live_steps]) went to the writer
        self.pending_saves: set[str] = set()


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
        self._nodes: dict[int, _NodeState] = {}  # by id(node): cheaper than its name
        self._lock = threading.Lock()
        self._warned: set[str] = set()
        self._disabled = False
        self._strict = False
        self._adopted: str | None = None
        self._loader: Any = None
        self._path_rewrites: list[dict[str, str]] = []
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
        self._nodes_left = 0  # nodes of the run not finished yet in this process

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
            self._recorder.when_writer_wakes(self._announce_running)
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
            self._fingerprints = Fingerprints(settings.project_path)
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
        self, recorder: Recorder, run_id: str, names: list[str], pipeline: Any, root: Path
    ) -> None:
        """Emit OpenLineage events live when ``lineage:`` is set; never fail the run."""
        self._lineage = None
        config = recorder.settings.extra.get("lineage")
        if not config:
            return
        try:
            from waldo.lineage import LiveLineage

            credentials = credentials_from_loader(self._loader) if self._loader else {}
            lineage = LiveLineage.from_config(config, root, credentials)
            lineage.run_started(
                run_id,
                self._project,
                names,
                sorted(pipeline.inputs()),
                sorted(pipeline.all_outputs()),
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
            )
            self._use_settings(settings)
            self._run_id = data["run_id"]
        return self._recorder

    def _active(self) -> tuple[Recorder, str] | None:
        recorder = self._worker_recorder() if self._in_worker() else self._recorder
        if recorder is None or self._run_id is None:
            return None
        return recorder, self._run_id

    def _node(self, node: Any) -> _NodeState:
        state = self._nodes.get(id(node))
        if state is None:
            with self._lock:
                state = self._nodes.setdefault(id(node), _NodeState(node))
        return state

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
        rules = path_rules(self._recorder.settings.extra.get("paths"))
        self._path_rewrites = (
            rewrite_catalog(
                catalog, conf_catalog or {}, conf_creds or {}, rules, self._settings.project_path
            )
            if rules and self._settings is not None
            else []
        )

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
        self._nodes = {}
        self._reasons = {}
        self._catalog = catalog
        recorder.prepare_store()
        recorder.check_store()
        recorder.replay_spool_in_background()
        names = list(run_params.get("pipeline_names") or ["__default__"])
        self._pipelines = names
        self._run_started = time.time()
        content = pipeline_content(pipeline)
        self._nodes_left = len(content["nodes"])
        pipeline_hash = recorder.snapshot(
            "pipelines", content, name="+".join(names), json_ready=True
        )
        sha, dirty = self._git.result() if self._git is not None else git_state(project_path)
        self._git = None
        import kedro

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
                    "path_rewrites": self._path_rewrites,
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
        self._start_lineage(recorder, run_id, names, pipeline, project_path)
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
        settings = recorder.settings
        os.environ[RUN_CONTEXT_ENV] = json.dumps(
            {
                "run_id": run_id,
                "store_url": settings.store_url,
                "project_path": str(settings.project_path),
                "spool_dir": str(settings.spool_dir),
                "strict": settings.strict,
                "heartbeat_seconds": settings.heartbeat_seconds,
            }
        )

    def _finish_run(self, status: str, event_type: str, error: BaseException | None) -> None:
        os.environ.pop(RUN_CONTEXT_ENV, None)
        active = self._active()
        if active is None:
            return
        recorder, run_id = active
        # Nodes that ran but whose outputs were never all saved failed with the run;
        # the others still unfinished (stopped while loading or running) keep their
        # events, and a node that had started stays as last recorded.
        for key, state in list(self._nodes.items()):
            failed = error is not None and bool(state.pending_saves)
            self._complete_node(key, "failed" if failed else None, error)
        recorder.event(run_id, event_type, "pipeline")
        recorder.end_run(run_id, status, error)
        self._run_id = self._recording_pid = None
        if self._fingerprints is not None:
            self._fingerprints.save()
        try:
            recorder.flush()
        finally:
            self._emit_lineage("run_finished", status, error)
            self._lineage = None
            self._notify(recorder, run_id, status, error)

    def _notify(
        self, recorder: Recorder, run_id: str, status: str, error: BaseException | None
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
            duration_s=(time.time() - started) if started is not None else None,
            error=f"{type(error).__name__}: {error}" if error is not None else None,
        )
        credentials = credentials_from_loader(self._loader) if self._loader is not None else {}
        notify(config, outcome, credentials)

    @hook_impl
    @_guarded
    def after_pipeline_run(self, run_params: dict[str, Any]) -> None:
        self._finish_run("success", "after_pipeline_run", None)

    @hook_impl
    @_guarded
    def on_pipeline_error(self, error: Exception, run_params: dict[str, Any]) -> None:
        self._finish_run("failed", "on_pipeline_error", error)

    # -- nodes ----------------------------------------------------------------------
    # Node and dataset hooks fire six or more times per node: each only appends a step
    # to the node's trail; the trail goes to the writer when the node ends (and its
    # first steps earlier, as its live row, if the writer wakes while it runs: see
    # _announce_running), and the writer builds the events and rows from it. They are
    # the plugin's hot path, so they skip ``_guarded`` (one Python call less each) and
    # guard themselves the same way through ``_failed``; ``_recording_here`` is only
    # asked when this process is not plainly the one recording a run
    # (``_recording_pid``).
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
            state = self._nodes.get(id(node)) or self._node(node)
            name = state.name
            if state.started is None:
                state.started = now
            fingerprints = self._fingerprints or self.fingerprints
            if fingerprints is not None:
                state.code_hash = fingerprints.code(node.func)
                params = {k: v for k, v in inputs.items() if is_parameter(k)} if inputs else None
                state.params_hashes = fingerprints.params(params) if params else _NO_PARAMS
            steps = state.steps
            node_step(steps, "before_node_run", name, now)
            state.live_steps = len(steps)
            state.func = func_name(node)  # last: from now on the writer may announce it
            if self._lineage is not None:  # building the lists costs more than the call
                self._emit_lineage("node_started", name, list(node.inputs), list(node.outputs), now)
        except PreflightError:
            raise
        except Exception as exc:
            self._failed("before_node_run", exc)

    @hook_impl
    def after_node_run(self, node: Any, outputs: dict[str, Any]) -> None:
        if self._recording_pid != _current_pid[0] and not self._recording_here():
            return
        try:
            state = self._nodes.get(id(node)) or self._node(node)
            node_step(state.steps, "after_node_run", state.name, time.time())
            if outputs:
                state.pending_saves = set(outputs)
            else:
                self._complete_node(id(node), "success", None)
        except Exception as exc:
            self._failed("after_node_run", exc)

    @hook_impl
    @_guarded
    def on_node_error(self, error: Exception, node: Any) -> None:
        if self._active() is None:
            return
        state = self._node(node)
        node_step(state.steps, "on_node_error", state.name, time.time())
        self._complete_node(id(node), "failed", error)

    def _complete_node(self, key: int, status: str | None, error: BaseException | None) -> None:
        """Send a node's trail; ``status`` None for a node that never ran (its events)."""
        recorder, run_id = self._recorder, self._run_id
        with self._lock:  # once out of _nodes, the writer's thread cannot announce it
            state = self._nodes.pop(key, None)
        if state is None or recorder is None or run_id is None:
            return
        node_name = state.name
        announced = state.announced
        recorder.node_trail(
            run_id,
            node_name,
            state.func,
            state.started,
            state.code_hash,
            None if announced else state.params_hashes,  # else they went with its live row
            status,
            state.steps[state.live_steps :] if announced else state.steps,
            self._reasons.get(node_name),
            error if status == "failed" else None,
        )
        if status is not None and self._lineage is not None:
            self._emit_lineage("node_finished", node_name, status, error)
        self._nodes_left -= 1
        if self._nodes_left == TAIL_NODES:
            recorder.ending_soon()
        if self._in_worker():  # a ParallelRunner worker flushes after each node
            if self._fingerprints is not None:
                self._fingerprints.save()
            recorder.flush()

    def _announce_running(self) -> None:
        """On the writer's thread, each time it wakes: the live row (``running``, with
        its loads so far) of every node that started since and is still running.

        A node's trail goes to the writer once, when it ends; only a node still
        running when the writer wakes (at most every half second) sends its first
        steps ahead, so that ``waldo show`` and the web page see it run. One record
        per node instead of two for a run of short nodes.

        The live row carries exactly the steps up to ``before_node_run``
        (``live_steps``, fixed before ``func`` is set), whatever the pipeline's thread
        has appended since: the end record then holds ``after_node_run`` and all the
        saves, from which the row's outputs and end are computed. ``announced`` tells
        ``_complete_node`` that only the steps after those are left to send; the lock
        orders the two.
        """
        recorder, run_id = self._recorder, self._run_id
        if recorder is None or run_id is None or not self._nodes:
            return
        with self._lock:
            for state in list(self._nodes.values()):
                if state.announced or state.func is None:  # already, or not running yet
                    continue
                state.announced = True
                recorder.node_trail(
                    run_id,
                    state.name,
                    state.func,
                    state.started,
                    state.code_hash,
                    state.params_hashes,
                    steps=state.steps[: state.live_steps],
                )

    # -- datasets -------------------------------------------------------------------
    # Four hooks per node with one input and one output, each written out in full: a
    # shared helper was one more Python call at every one of them.
    @hook_impl
    def before_dataset_loaded(self, dataset_name: str, node: Any) -> None:
        if self._recording_pid != _current_pid[0] and not self._recording_here():
            return
        try:
            now = time.time()
            state = self._nodes.get(id(node)) or self._node(node)
            if state.started is None:  # a node starts with its first load
                state.started = now
            node_step(state.steps, "before_dataset_loaded", dataset_name, now)
        except Exception as exc:
            self._failed("before_dataset_loaded", exc)

    @hook_impl
    def after_dataset_loaded(self, dataset_name: str, data: Any, node: Any) -> None:
        if self._recording_pid != _current_pid[0] and not self._recording_here():
            return
        try:
            now = time.time()
            state = self._nodes.get(id(node)) or self._node(node)
            fingerprints = self._fingerprints or self.fingerprints
            if fingerprints is not None and not is_parameter(dataset_name):
                version = fingerprints.dataset(
                    self._catalog, dataset_name, data, has_data=True, loading=True
                )
                dataset_step(state.steps, "after_dataset_loaded", dataset_name, now, version)
            else:
                node_step(state.steps, "after_dataset_loaded", dataset_name, now)
        except Exception as exc:
            self._failed("after_dataset_loaded", exc)

    @hook_impl
    def before_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        if self._recording_pid != _current_pid[0] and not self._recording_here():
            return
        try:
            state = self._nodes.get(id(node)) or self._node(node)
            node_step(state.steps, "before_dataset_saved", dataset_name, time.time())
        except Exception as exc:
            self._failed("before_dataset_saved", exc)

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        if self._recording_pid != _current_pid[0] and not self._recording_here():
            return
        try:
            now = time.time()
            state = self._nodes.get(id(node)) or self._node(node)
            fingerprints = self._fingerprints or self.fingerprints
            if fingerprints is not None and not is_parameter(dataset_name):
                version = fingerprints.dataset(self._catalog, dataset_name, data, has_data=True)
                stats = None if self._stats_rows is None else self._stats(data, version)
                dataset_step(state.steps, "after_dataset_saved", dataset_name, now, version, stats)
            else:
                node_step(state.steps, "after_dataset_saved", dataset_name, now)
            pending = state.pending_saves
            pending.discard(dataset_name)
            if not pending:  # the node's last output is saved: its trail is complete
                self._complete_node(id(node), "success", None)
        except Exception as exc:
            self._failed("after_dataset_saved", exc)

    def _stats(self, data: Any, version: Version) -> str | None:
        """Statistics of a saved dataset as JSON text (see :func:`_stats_rows`)."""
        stats = data_stats(data, self._stats_rows or 0)
        path = version.path
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
