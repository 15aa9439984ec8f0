"""``waldo status``: which nodes the run you are about to start would run, and why.

The project is loaded in-process the way ``kedro run`` loads it, with the same options
(environment, runtime parameters, pipeline and node selection), and its catalog is
prepared as a run's would be (``paths:`` rules, the data branch); then each node is
compared with its last successful run, exactly as ``IncrementalRunner`` does before it
runs. No project hook runs, and nothing is written to the journal.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import sys
import warnings
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from waldo._errors import ConfigError
from waldo.journal import Decision, History
from waldo.kedro._config import settings_from_loader, waldo_config
from waldo.kedro._entries import entries_now, remember_catalog_config
from waldo.kedro._incremental import plan
from waldo.kedro._run_catalog import prepare_run_catalog
from waldo.kedro._versions import Fingerprints
from waldo.store import Store

_BACKGROUND = ThreadPoolExecutor(max_workers=1, thread_name_prefix="waldo-status")


@dataclass(frozen=True)
class Selection:
    """``kedro run``'s options that choose what runs, and with what."""

    pipelines: tuple[str, ...] = ()
    env: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    node_names: tuple[str, ...] = ()
    from_nodes: tuple[str, ...] = ()
    to_nodes: tuple[str, ...] = ()
    from_inputs: tuple[str, ...] = ()
    to_outputs: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()


@dataclass(frozen=True)
class Status:
    """The answer of ``waldo status``."""

    pipeline: str
    branch: str | None
    decisions: list[Decision]


def project_status(
    project_path: Path, selection: Selection, verbose: bool = False, store_url: str | None = None
) -> Status:
    """What a ``kedro run`` with ``selection`` would run in the project, and why
    (``store_url``: the journal to read, instead of the project's)."""
    with _kedro_logging(verbose), _no_cycle_collection():
        from kedro.framework.startup import bootstrap_project

        try:
            package = bootstrap_project(project_path).package_name
        except Exception as exc:
            raise ConfigError(f"{project_path} is not a Kedro project: {exc}") from exc
        context = _context(project_path, package, selection)
        settings = settings_from_loader(context.config_loader, project_path)
        store = Store(store_url or settings.store_url)
        # Connect (and import the driver) while Kedro builds the pipeline and catalog.
        connecting = _BACKGROUND.submit(store.ensure_schema)
        pipeline, name = _pipeline(selection, project_path)
        if selection.pipelines and "__default__" not in selection.pipelines:
            # as the session does: parameters are validated (and typed) for these only
            context._pipelines_to_validate = list(selection.pipelines)
        try:
            catalog = context.catalog
        except Exception as exc:  # Kedro's own message, on one line
            message = " ".join(str(exc).split())
            raise ConfigError(f"Kedro cannot load the catalog: {message}") from exc
        run_catalog = prepare_run_catalog(
            catalog,
            pipeline,
            waldo_config(context.config_loader),
            selection.params,
            project_path,
        )
        fingerprints = Fingerprints(settings.project_path, settings.extra.get("fingerprints"))
        connecting.result()
        the_plan = plan(
            pipeline,
            catalog,
            History(store),
            project_path.name,
            fingerprints,
            branch=run_catalog.branch,
            entries=entries_now(catalog, Path(context.project_path)),
        )
    return Status(name, run_catalog.branch, the_plan.decisions)


def _context(project_path: Path, package: str, selection: Selection) -> Any:
    """The project's context as ``kedro run`` makes it, without its hooks."""
    from kedro.framework.hooks.manager import _create_hook_manager
    from kedro.framework.project import settings

    env = selection.env or os.getenv("KEDRO_ENV")
    params = dict(selection.params) or None
    loader = settings.CONFIG_LOADER_CLASS(
        conf_source=str(project_path / settings.CONF_SOURCE),
        env=env,
        runtime_params=params,
        **settings.CONFIG_LOADER_ARGS,
    )
    hook_manager = _create_hook_manager()
    hook_manager.register(_catalog_config_hook())
    return settings.CONTEXT_CLASS(
        package_name=package,
        project_path=project_path,
        config_loader=loader,
        env=env,
        runtime_params=params,
        hook_manager=hook_manager,
    )


def _catalog_config_hook() -> Any:
    """The one hook status registers: it keeps the catalog configuration Kedro read
    (imported here: importing Kedro's hooks configures Kedro's logging)."""
    from kedro.framework.hooks import hook_impl

    class CatalogConfig:
        @hook_impl
        def after_catalog_created(
            self, catalog: Any, conf_catalog: dict[str, Any], conf_creds: dict[str, Any]
        ) -> None:
            remember_catalog_config(catalog, conf_catalog, conf_creds)

    return CatalogConfig()


def _pipeline(selection: Selection, project_path: Path) -> tuple[Any, str]:
    from kedro.framework.project import pipelines
    from kedro.pipeline import Pipeline

    names = list(selection.pipelines) or ["__default__"]
    combined = Pipeline([])
    for name in names:
        if name not in pipelines:
            known = ", ".join(sorted(pipelines)) or "none"
            raise ConfigError(f"No pipeline '{name}' in {project_path} (pipelines: {known}).")
        combined += pipelines[name]
    try:
        chosen = combined.filter(
            tags=selection.tags or None,
            from_nodes=list(selection.from_nodes) or None,
            to_nodes=list(selection.to_nodes) or None,
            node_names=list(selection.node_names) or None,
            from_inputs=list(selection.from_inputs) or None,
            to_outputs=list(selection.to_outputs) or None,
            node_namespaces=list(selection.namespaces) or None,
        )
    except ValueError as exc:  # Kedro's own words: an unknown node, an empty selection
        raise ConfigError(" ".join(str(exc).split())) from exc
    return chosen, "+".join(names)


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Status builds the project's pipeline, configuration and catalog at once, objects
    that live until it answers: the cycle collector would walk them again and again as
    they grow (an eighth of the command's time on 500 nodes). It runs once at the end."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def _kedro_logging(verbose: bool) -> Iterator[None]:
    """Kedro logs to stdout, which ``--format json`` keeps for JSON: what it says goes
    to stderr, and without ``-v`` it says nothing (Waldo's warnings still show)."""
    kedro_log = logging.getLogger("kedro")
    with warnings.catch_warnings(), contextlib.redirect_stdout(sys.stderr):
        if verbose:
            yield
            return
        warnings.simplefilter("ignore")
        logging.disable(logging.INFO)
        import kedro.framework.project  # noqa: F401  (configures Kedro's logging)

        level = kedro_log.level
        kedro_log.setLevel(logging.CRITICAL)
        try:
            yield
        finally:
            kedro_log.setLevel(level)
            logging.disable(logging.NOTSET)
