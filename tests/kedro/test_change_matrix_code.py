"""Code changes on a real Kedro project: each edit re-runs exactly the node it concerns.

One project per backend. Each node reads ``raw.csv`` and writes its own CSV, and each
depends on one kind of code: a constant in its module, a constant of a helper module,
a dict, a regex, a partial's argument, a default argument, a closure, a method, a
lambda, a value that cannot be fingerprinted, a library's version (with
``fingerprints: {libraries: true}``; the library is a tiny distribution in a
site-packages folder of the test, whose dist-info says 1.0 and then 2.0). After a first
run, ``waldo status`` must say everything is up to date; then every case's edit is
made at once (plus a comment edit that must change nothing), ``waldo status`` must
name each stale node with its reason, the incremental run must rewrite exactly the
edited nodes' files, and ``waldo status`` must be back to up to date.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.projects import kedro_run
from waldo.kedro._project import kedro_env, write_project

pytestmark = pytest.mark.slow

PACKAGE = "cmx"

HELPERS = """
LABEL = "a"


def tag(value):
    return f"{value}-{LABEL}"


class Scaler:
    def __init__(self, factor):
        self.factor = factor

    def apply(self, raw):
        return raw.assign(v=self.scale(raw["v"]))

    def scale(self, values):
        return values * self.factor
"""

CONFIG = """
LIMITS = {"low": 1, "high": 5}
"""

MODEL = """
import threading


class Model:
    def __init__(self, k):
        self.k = k
        self.lock = threading.Lock()  # no value fingerprint for this object

    def predict(self, raw):
        return raw.assign(v=raw["v"] * self.k)


MODEL = Model(3)
"""

NODES = '''
import re

import tinylib

from cmx import config
from cmx.helpers import tag
from cmx.model import MODEL

OWN = "x"
PATTERN = re.compile("[0-9]")
WORD = re.compile("b+")
OFFSET = 1


def own_constant(raw):
    return raw.assign(s=OWN)


def helper_constant(raw):
    return raw.assign(s=[tag(v) for v in raw["v"]])


def dict_constant(raw):
    return raw.assign(s=config.LIMITS["high"])


def regex_constant(raw):
    return raw.assign(s=[PATTERN.sub("#", str(v)) for v in raw["v"]])


def scaled(raw, factor):
    return raw.assign(v=raw["v"] * factor)


def shifted(raw, offset=OFFSET):
    return raw.assign(v=raw["v"] + offset)


def make_closure(pattern):
    def closure(raw):
        return raw.assign(s=[pattern.sub("-", "abba") for _ in raw["v"]])

    return closure


def predicted(raw):
    return MODEL.predict(raw)


def with_library(raw):
    return raw.assign(v=tinylib.double(raw["v"]))


def untouched(raw):
    """Never edited."""
    return raw


def commented(raw):
    # a comment that will be reworded
    return raw.assign(c=1)
'''

REGISTRY = """
from functools import partial

from kedro.pipeline import Pipeline, node, pipeline

from cmx import nodes
from cmx.helpers import Scaler

BONUS = 10


def register_pipelines() -> dict[str, Pipeline]:
    funcs = {
        "own_constant": nodes.own_constant,
        "helper_constant": nodes.helper_constant,
        "dict_constant": nodes.dict_constant,
        "regex_constant": nodes.regex_constant,
        "partial": partial(nodes.scaled, factor=2),
        "default": nodes.shifted,
        "closure": nodes.make_closure(nodes.WORD),
        "method": Scaler(2).apply,
        "lambda": lambda raw: raw.assign(v=raw["v"] + BONUS),
        "opaque": nodes.predicted,
        "library": nodes.with_library,
        "untouched": nodes.untouched,
        "commented": nodes.commented,
    }
    return {
        "__default__": pipeline(
            [node(func, "raw", f"{name}_out", name=name) for name, func in funcs.items()]
        )
    }
"""

CASES = {  # node: (file under src/cmx, old text, new text, the reason status gives)
    "own_constant": ("nodes.py", 'OWN = "x"', 'OWN = "y"', "constant cmx.nodes.OWN"),
    "helper_constant": ("helpers.py", 'LABEL = "a"', 'LABEL = "b"', "constant cmx.helpers.LABEL"),
    "dict_constant": ("config.py", '"high": 5', '"high": 6', "constant cmx.config.LIMITS"),
    "regex_constant": ("nodes.py", '"[0-9]"', '"[0-4]"', "constant cmx.nodes.PATTERN"),
    "partial": ("pipeline_registry.py", "factor=2", "factor=3", "partial cmx.nodes.scaled"),
    "default": ("nodes.py", "OFFSET = 1", "OFFSET = 2", "function cmx.nodes.shifted"),
    "closure": (
        "nodes.py",
        '"b+"',
        '"a+"',
        "function cmx.nodes.make_closure.<locals>.closure",
    ),
    "method": (
        "helpers.py",
        "values * self.factor",
        "values * self.factor + 1",
        "class cmx.helpers.Scaler",
    ),
    "lambda": (
        "pipeline_registry.py",
        "BONUS = 10",
        "BONUS = 20",
        "constant cmx.pipeline_registry.BONUS",
    ),
    "opaque": ("model.py", "MODEL = Model(3)", "MODEL = Model(4)", "constant cmx.nodes.MODEL"),
}
COSMETIC = ("nodes.py", "# a comment that will be reworded", "# reworded, says the comment")
ALL = {*CASES, "library", "untouched", "commented"}
OPAQUE_WARNING = "cmx.nodes.MODEL (a cmx.model.Model) cannot be fingerprinted by value"


def tiny_library(site: Path, version: str) -> None:
    """``tinylib`` as if installed by pip at ``version`` (a dist-info with that version)."""
    for old in site.glob("tinylib-*.dist-info"):
        for path in old.iterdir():
            path.unlink()
        old.rmdir()
    (site / "tinylib").mkdir(parents=True, exist_ok=True)
    (site / "tinylib" / "__init__.py").write_text("def double(values):\n    return values * 2\n")
    info = site / f"tinylib-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: tinylib\nVersion: {version}\n")
    (info / "top_level.txt").write_text("tinylib\n")


def make_project(root: Path, store_url: str) -> Path:
    sources = {"helpers.py": HELPERS, "config.py": CONFIG, "model.py": MODEL}
    return write_project(
        root,
        PACKAGE,
        nodes_py=NODES,
        registry_py=REGISTRY,
        catalog_yml="\n".join(
            ["raw: {type: pandas.CSVDataset, filepath: data/raw.csv}"]
            + [
                f"{name}_out: {{type: pandas.CSVDataset, filepath: data/{name}.csv}}"
                for name in sorted(ALL)
            ]
        ),
        local_files={
            "data/raw.csv": "v\n1\n5\n9\n",
            "conf/base/waldo.yml": f"store: {store_url}\nfingerprints: {{libraries: true}}\n",
            **{f"src/{PACKAGE}/{name}": text for name, text in sources.items()},
        },
    )


def environment(site: Path) -> dict[str, str]:
    """The tiny library importable; log lines wide enough not to be wrapped."""
    path = os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])
    return {"PYTHONPATH": path, "COLUMNS": "400"}


def status(root: Path, site: Path) -> tuple[dict[str, list[str]], str]:
    """``waldo status``: the reasons of each stale node, and what it logged."""
    result = subprocess.run(
        [sys.executable, "-m", "waldo.cli", "-C", str(root), "status", "--format", "json"],
        capture_output=True,
        text=True,
        env={**kedro_env(), **environment(site)},
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    nodes = json.loads(result.stdout)["nodes"]
    return {n["node"]: n["reasons"] for n in nodes if n["stale"]}, result.stderr


def outputs(root: Path) -> dict[str, tuple[int, bytes]]:
    return {
        name: (
            (root / "data" / f"{name}.csv").stat().st_mtime_ns,
            (root / "data" / f"{name}.csv").read_bytes(),
        )
        for name in ALL
    }


def run(root: Path, site: Path) -> str:
    result = kedro_run(root, "--runner=waldo.kedro.IncrementalRunner", env=environment(site))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


def edit(root: Path, file: str, old: str, new: str) -> None:
    path = root / "src" / PACKAGE / file
    text = path.read_text()
    assert old in text, (file, old)
    path.write_text(text.replace(old, new))


@pytest.mark.parametrize(
    "store_url",
    ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
    indirect=True,
)
def test_each_code_change_reruns_exactly_its_node(tmp_path: Path, store_url: str) -> None:
    site = tmp_path / "venv" / "lib" / "site-packages"
    tiny_library(site, "1.0")
    root = make_project(tmp_path / "project", store_url)
    first = run(root, site)
    assert first.count(OPAQUE_WARNING) == 1, first[-3000:]
    stale, logged = status(root, site)
    assert stale == {}, "a run and waldo status must agree on every fingerprint"
    assert logged.count(OPAQUE_WARNING) == 1, logged[-3000:]

    for file, old, new, _ in CASES.values():
        edit(root, file, old, new)
    edit(root, *COSMETIC)
    tiny_library(site, "2.0")

    stale, _ = status(root, site)
    expected = {node: [f"code changed ({part})"] for node, (*_, part) in CASES.items()}
    assert stale == {**expected, "library": ["library tinylib 1.0 -> 2.0"]}

    before = outputs(root)
    run(root, site)
    after = outputs(root)
    rewritten = {name for name in ALL if after[name][0] != before[name][0]}
    assert rewritten == {*CASES, "library"}
    assert b"y" in after["own_constant"][1] and b"-b" in after["helper_constant"][1]
    assert status(root, site)[0] == {}
