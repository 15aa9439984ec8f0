"""What Waldo needs to know about a Kedro dataset: is it persisted, and where."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

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


def is_persisted(catalog: Any, name: str) -> bool:
    """True for datasets that outlive a run (files, tables): not memory, not params."""
    if is_parameter(name):
        return False
    dataset = dataset_of(catalog, name)
    return dataset is not None and type(dataset).__name__ not in _EPHEMERAL


def local_path(dataset: Any) -> Path | None:
    """The local file or folder a dataset reads and writes, if it has one.

    Versioned datasets resolve to their latest version's path. Remote protocols
    (s3, gcs, ...) return None: their versions come from data fingerprints instead.
    """
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
