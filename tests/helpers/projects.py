"""Kedro projects for tests, written by hand with ``waldo.kedro._project``.

``chain_project`` builds a pipeline of N nodes passing a small DataFrame (or a number)
along a chain, with knobs for a failing node, a slow node and extra waldo.yml or
credentials.yml content.
"""

from __future__ import annotations

from pathlib import Path

from waldo.kedro._project import kedro_run, write_project

__all__ = ["chain_project", "kedro_run"]


def chain_project(
    root: Path,
    *,
    nodes: int = 3,
    package: str = "chain_proj",
    fail_node: int | None = None,
    sleep_node: int | None = None,
    sleep_seconds: float = 0.0,
    memory: bool = False,
    waldo_yml: str | None = None,
    credentials_yml: str | None = None,
) -> Path:
    """A chain of ``nodes`` nodes: step_0 reads ``seed`` (CSV), step_i reads step_{i-1}.

    Outputs are CSV files unless ``memory`` (then MemoryDatasets, numbers only).
    ``fail_node`` raises ValueError in that node; ``sleep_node`` sleeps there first,
    unless the file ``release`` exists in the project (tests create it to let go).
    """
    nodes_py = f"""
import time
from pathlib import Path

import pandas as pd

FAIL_NODE = {fail_node!r}
SLEEP_NODE = {sleep_node!r}
SLEEP_SECONDS = {sleep_seconds!r}


def step(index, data, factor):
    if index == SLEEP_NODE:
        deadline = time.time() + SLEEP_SECONDS
        while time.time() < deadline and not Path("release").exists():
            time.sleep(0.05)
    if index == FAIL_NODE:
        raise ValueError(f"step_{{index}} failed on purpose")
    if isinstance(data, pd.DataFrame):
        out = data.copy()
        out["value"] = out["value"] * factor + index
        return out
    return data * factor + index
"""
    registry_py = f"""
from functools import partial, update_wrapper

from kedro.pipeline import Pipeline, node, pipeline

from {package}.nodes import step


def _step(index):
    func = partial(step, index)
    update_wrapper(func, step)
    return func


def register_pipelines() -> dict[str, Pipeline]:
    nodes = []
    for i in range({nodes}):
        source = "seed" if i == 0 else f"d{{i - 1}}"
        nodes.append(node(_step(i), [source, "params:factor"], f"d{{i}}", name=f"step_{{i}}"))
    chain = pipeline(nodes)
    return {{"__default__": chain, "chain": chain}}
"""
    catalog = ["seed:\n  type: pandas.CSVDataset\n  filepath: data/seed.csv\n"]
    if not memory:
        for i in range(nodes):
            catalog.append(f"d{i}:\n  type: pandas.CSVDataset\n  filepath: data/d{i}.csv\n")
    local_files = {"data/seed.csv": "id,value\n1,1.0\n2,2.0\n3,3.0\n"}
    if waldo_yml is not None:
        local_files["conf/base/waldo.yml"] = waldo_yml
    if credentials_yml is not None:
        local_files["conf/local/credentials.yml"] = credentials_yml
    return write_project(
        root,
        package,
        nodes_py=nodes_py,
        registry_py=registry_py,
        catalog_yml="\n".join(catalog),
        parameters_yml="factor: 2\n",
        local_files=local_files,
    )
