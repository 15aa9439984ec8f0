"""The catalog a run uses: ``paths:`` rules and the data branch, on every dataset.

Kedro makes factory datasets lazily, so the catalog is prepared once the pipeline is
known (``before_pipeline_run``, and ``waldo status`` the same way): every dataset the run
reads or writes, written out in ``catalog.yml`` or made by a factory pattern, is rebuilt
from its configuration with the path the first matching ``paths:`` rule gives it and,
on a data branch, made branch-local (``waldo.kedro._branches``). On a branch, a dataset
the run writes that cannot be branch-local stops the run before any node runs: nothing
is ever written to main data from a branch run, unless ``branch: {shared: [...]}`` says so.

The recording hooks and the branch hooks both ask for the prepared catalog; the work
is done once per catalog.
"""

from __future__ import annotations

import contextlib
import logging
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from waldo._errors import ConfigError
from waldo.kedro._branches import (
    BranchConfig,
    BranchLocalDataset,
    branch_config,
    branch_path,
    data_branch,
)
from waldo.kedro._datasets import dataset_config, is_ephemeral, is_parameter
from waldo.kedro._paths import PATH_KEYS, anchored, path_rules, rewrite
from waldo.kedro._preflight import PreflightError

log = logging.getLogger("waldo")

#: Kedro's key for a dataset's validator: not an argument of the dataset's class.
_VALIDATOR_KEY = "validator"


class BranchRefused(PreflightError, click.ClickException):
    """A run on a data branch cannot start without risking main data (datasets that
    cannot be branch-local, a bad ``branch:`` section). A click error too: ``kedro run``
    then prints its one line, not a traceback."""


@dataclass(frozen=True)
class RunCatalog:
    """What was done to a run's catalog: its data branch, the paths rewritten, the
    datasets made branch-local."""

    branch: str | None = None
    rewrites: list[dict[str, str]] = field(default_factory=list)
    branch_local: list[str] = field(default_factory=list)


_prepared: tuple[weakref.ReferenceType[Any], RunCatalog] | None = None


def prepared(catalog: Any) -> RunCatalog | None:
    """The preparation of ``catalog``, if it was prepared."""
    last = _prepared
    if catalog is None or last is None:
        return None
    return last[1] if last[0]() is catalog else None


def prepare_run_catalog(
    catalog: Any,
    pipeline: Any,
    waldo_conf: Mapping[str, Any],
    runtime_params: Mapping[str, Any] | None,
    project_path: Path,
) -> RunCatalog:
    """Apply ``paths:`` rules and the data branch to every dataset ``pipeline`` uses.

    Raises ``ConfigError`` for a bad ``branch:`` section and :class:`BranchRefused` when
    the run is on a branch and writes datasets that cannot be branch-local.
    """
    global _prepared
    done = prepared(catalog)
    if done is not None:
        return done
    config = branch_config(waldo_conf)
    branch = data_branch(runtime_params, config, project_path)
    rules = _rules(waldo_conf, project_path)
    outputs = set(pipeline.all_outputs())
    root = f"{project_path.as_posix().rstrip('/')}/"
    result = RunCatalog(branch=branch)
    if branch is None and not rules:  # nothing to rewrite
        _prepared = (weakref.ref(catalog), result)
        return result
    refused: list[str] = []
    with _quiet_replacements():
        for name in sorted(pipeline.datasets()):
            if is_parameter(name):
                continue
            problem = _prepare(catalog, name, rules, branch, config, name in outputs, result)
            if problem is not None:
                refused.append(problem)
    if refused:
        raise BranchRefused(
            f"cannot run on data branch {branch}: the run writes {', '.join(refused)}, which "
            "Waldo cannot make branch-local, so main data would be overwritten; list them "
            "under `branch: {shared: [...]}` in waldo.yml to write them from branches too. "
            "The run stopped before any node ran."
        )
    for rewritten in result.rewrites:
        for key in ("from", "to"):
            rewritten[key] = rewritten[key].removeprefix(root)
    if branch is not None:
        log.info(
            "waldo: data branch %s: %d dataset(s) branch-local", branch, len(result.branch_local)
        )
    _prepared = (weakref.ref(catalog), result)
    return result


def _rules(waldo_conf: Mapping[str, Any], project_path: Path) -> list[tuple[str, str]]:
    try:
        rules = path_rules(waldo_conf.get("paths"))
    except ConfigError as exc:  # a bad rule is a warning, as before: the run goes on
        log.warning("waldo: %s No path is rewritten.", exc)
        return []
    return anchored(rules, project_path) if rules else []


def _prepare(
    catalog: Any,
    name: str,
    rules: list[tuple[str, str]],
    branch: str | None,
    config: BranchConfig,
    written: bool,
    result: RunCatalog,
) -> str | None:
    """Rewrite and branch one dataset; return why it is refused on this branch, if it is."""
    dataset = catalog.get(name)
    if dataset is None or is_ephemeral(dataset):
        return None
    entry = dataset_config(catalog, name)
    key = next((k for k in PATH_KEYS if entry and isinstance(entry.get(k), str)), None)
    if entry is None or key is None:
        shared = branch is None or not written or name in config.shared
        return None if shared else _no_copy(name, dataset, entry)
    main, entry = _with_rules(catalog, name, dataset, entry, key, rules, result)
    if branch is not None and name not in config.shared:
        try:
            copy = _rebuild(catalog, name, {**entry, key: branch_path(str(entry[key]), branch)})
        except Exception as exc:
            if written:
                return f"{name} (its branch copy cannot be made: {exc})"
            log.warning("waldo: %s is read from its main file on branch %s: %s", name, branch, exc)
        else:
            main = BranchLocalDataset(main, copy)
            result.branch_local.append(name)
    if main is not dataset:
        _replace(catalog, name, main)
    return None


def _no_copy(name: str, dataset: Any, entry: dict[str, Any] | None) -> str | None:
    """Why a dataset with no file cannot be written from a branch (None: it can)."""
    if type(dataset).__name__ == "DoltTableDataset":
        return None  # branch-local through the Dolt branch of the same name
    kind = entry.get("type") if entry else None
    return f"{name} ({kind or type(dataset).__name__}, no file)"


def _with_rules(
    catalog: Any,
    name: str,
    dataset: Any,
    entry: dict[str, Any],
    key: str,
    rules: list[tuple[str, str]],
    result: RunCatalog,
) -> tuple[Any, dict[str, Any]]:
    """The dataset and its configuration after the first ``paths:`` rule that matches."""
    old = str(entry[key])
    new = rewrite(old, rules) if rules else None
    if new is None or new == old:
        return dataset, entry
    try:
        rewritten = _rebuild(catalog, name, {**entry, key: new})
    except Exception as exc:
        log.warning("waldo: cannot rewrite the path of %s to %s: %s", name, new, exc)
        return dataset, entry
    result.rewrites.append({"dataset": name, "from": old, "to": new})
    return rewritten, {**entry, key: new}


def _rebuild(catalog: Any, name: str, config: dict[str, Any]) -> Any:
    from kedro.io import AbstractDataset

    config = {k: v for k, v in config.items() if k != _VALIDATOR_KEY}
    load_version = (getattr(catalog, "_load_versions", None) or {}).get(name)
    save_version = getattr(catalog, "_save_version", None)
    return AbstractDataset.from_config(name, config, load_version, save_version)


def _replace(catalog: Any, name: str, dataset: Any) -> None:
    """Put ``dataset`` in place of ``name``'s, keeping its validator (Kedro drops it)."""
    specs = getattr(catalog, "_validator_specs", None)
    spec = specs.get(name) if isinstance(specs, dict) else None
    catalog[name] = dataset
    if spec is not None and isinstance(specs, dict):
        specs[name] = spec


@contextlib.contextmanager
def _quiet_replacements() -> Iterator[None]:
    """Kedro warns "Replacing dataset" for each; here replacing is the point."""
    catalog_log = logging.getLogger("kedro.io.data_catalog")
    level = catalog_log.level
    catalog_log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        catalog_log.setLevel(level)


def prepare_for_hooks(
    catalog: Any, pipeline: Any, loader: Any, run_params: Mapping[str, Any]
) -> RunCatalog:
    """:func:`prepare_run_catalog` from ``before_pipeline_run``'s arguments (and the
    session's config loader, None if the hooks never saw the context)."""
    from waldo.kedro._config import waldo_config

    if catalog is None or pipeline is None:
        return RunCatalog()
    done = prepared(catalog)
    if done is not None:
        return done
    try:
        return prepare_run_catalog(
            catalog,
            pipeline,
            waldo_config(loader) if loader is not None else {},
            run_params.get("runtime_params"),
            Path(run_params.get("project_path") or Path.cwd()),
        )
    except ConfigError as exc:  # the data branch is unsure: the run must not start
        raise BranchRefused(f"{exc} The run stopped before any node ran.") from exc
