"""What Waldo needs to know about a Kedro dataset: is it persisted, and where."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from waldo.kedro._branches import BranchLocalDataset

_EPHEMERAL = {"MemoryDataset", "SharedMemoryDataset", "CachedDataset"}


def is_parameter(name: str) -> bool:
    return name == "parameters" or name.startswith("params:")


def dataset_of(catalog: Any, name: str) -> Any | None:
    """The dataset object for ``name``, materialising catalog patterns; None if absent."""
    try:
        if name not in catalog:
            return catalog.get(name, fallback_to_runtime_pattern=False)
        return catalog.get(name)
    except Exception:
        return None


def dataset_config(catalog: Any, name: str) -> dict[str, Any] | None:
    """The configuration ``name`` is built from (credentials resolved), whether written
    out in the catalog or matched by a factory pattern; None for a dataset the catalog
    has no configuration for (parameters, runtime MemoryDatasets, datasets added by code).
    """
    resolver = getattr(catalog, "config_resolver", None)
    if resolver is None or is_parameter(name):
        return None
    config = resolver.config.get(name)
    if config is None and (
        resolver.match_dataset_pattern(name) or resolver.match_user_catch_all_pattern(name)
    ):
        config = resolver.resolve_pattern(name)
    return dict(config) if isinstance(config, dict) else None


def catalog_entries(catalog: Any, names: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The configuration of each of ``names`` that has one (see :func:`dataset_config`)."""
    found = {name: dataset_config(catalog, name) for name in names}
    return {name: config for name, config in found.items() if config is not None}


def is_ephemeral(dataset: Any) -> bool:
    """True for datasets that live only while a run goes (memory, shared memory, cache)."""
    return type(dataset).__name__ in _EPHEMERAL


def is_persisted(catalog: Any, name: str) -> bool:
    """True for datasets that outlive a run (files, tables): not memory, not params."""
    if is_parameter(name):
        return False
    dataset = dataset_of(catalog, name)
    return dataset is not None and not is_ephemeral(dataset)


def unchanged_once_saved(dataset: Any, data: Any) -> bool:
    """True when nothing later in a run can change ``data``, the value a node saved to
    ``dataset``: the runner drops a persisted dataset's value once saved, and a
    ``MemoryDataset`` keeps a copy (unless its copy mode is ``assign``)."""
    if dataset is None:
        return False
    if not is_ephemeral(dataset):
        return True
    if type(dataset).__name__ != "MemoryDataset":
        return False
    mode = getattr(dataset, "_copy_mode", None)
    if mode is None:  # as Kedro infers it: other DataFrames (Spark...) and ibis tables
        kind = type(data)
        pandas = kind.__module__.startswith("pandas")
        shared = (kind.__name__ == "DataFrame" and not pandas) or kind.__module__.startswith("ibis")
        return not shared
    return bool(mode != "assign")


def local_path(dataset: Any) -> Path | None:
    """The local file or folder a dataset reads and writes, if it has one.

    Versioned datasets resolve to their latest version's path. Remote protocols
    (s3, gcs, ...) return None: their versions come from data fingerprints instead. A
    branch-local dataset resolves to its branch copy once that exists, else to the main
    file: what a load reads now, and where a save has just written.
    """
    if isinstance(dataset, BranchLocalDataset):
        dataset = dataset.visible()
    if dataset is None:
        return None
    protocol = getattr(dataset, "_protocol", None)
    if protocol not in (None, "file"):
        return None
    raw = getattr(dataset, "_filepath", None) or getattr(dataset, "_path", None)
    if raw is None:
        return None
    if getattr(dataset, "_version", None) is not None:
        try:
            raw = dataset._get_load_path()
        except Exception:
            return None
    return Path(os.path.abspath(str(raw)))
