"""Code fingerprints change with logic, not with comments, docstrings or layout."""

from __future__ import annotations

import functools
import importlib
import sys
import textwrap
import uuid
from pathlib import Path
from types import ModuleType

import pytest

from waldo.fingerprint import code_fingerprint


def load(tmp_path: Path, files: dict[str, str]) -> ModuleType:
    """Write a fresh package (unique name) and import its ``nodes`` module."""
    package = f"pkg_{uuid.uuid4().hex[:8]}"
    root = tmp_path / package
    root.mkdir(parents=True)
    (root / "__init__.py").write_text("")
    for name, text in files.items():
        (root / f"{name}.py").write_text(textwrap.dedent(text))
    sys.path.insert(0, str(tmp_path))
    try:
        return importlib.import_module(f"{package}.nodes")
    finally:
        sys.path.remove(str(tmp_path))


BASE = '''
def helper(x):
    return x * 2


def node(x, factor=3):
    """Double and scale."""
    # a comment
    return helper(x) + factor
'''


@pytest.fixture
def base(tmp_path: Path) -> str:
    return code_fingerprint(load(tmp_path / "a", {"nodes": BASE}).node)


@pytest.mark.parametrize(
    "edited",
    [
        BASE.replace("# a comment", "# another, longer comment"),
        BASE.replace('"""Double and scale."""', '"""Completely different words."""'),
        BASE.replace("return helper(x) + factor", "return   helper( x )+factor"),
        BASE.replace("def node(x, factor=3):", "def node(\n    x,\n    factor=3,\n):"),
        BASE + "\n\n# trailing comment\n",
    ],
    ids=["comment", "docstring", "spacing", "line breaks", "trailing comment"],
)
def test_cosmetic_edits_keep_the_fingerprint(tmp_path: Path, base: str, edited: str) -> None:
    assert code_fingerprint(load(tmp_path / "b", {"nodes": edited}).node) == base


@pytest.mark.parametrize(
    "edited",
    [
        BASE.replace("return helper(x) + factor", "return helper(x) - factor"),
        BASE.replace("factor=3", "factor=4"),
        BASE.replace("return x * 2", "return x * 3"),  # a helper the node calls
    ],
    ids=["logic", "default argument", "called helper"],
)
def test_logic_edits_change_the_fingerprint(tmp_path: Path, base: str, edited: str) -> None:
    assert code_fingerprint(load(tmp_path / "b", {"nodes": edited}).node) != base


def test_helpers_in_another_module_of_the_package_count(tmp_path: Path) -> None:
    files = {
        "utils": "def scale(x):\n    return x * 2\n",
        "nodes": "from .utils import scale\n\n\ndef node(x):\n    return scale(x)\n",
    }
    first = code_fingerprint(load(tmp_path / "a", files).node)
    files["utils"] = "def scale(x):\n    return x * 5\n"
    assert code_fingerprint(load(tmp_path / "b", files).node) != first


def test_depth_is_bounded(tmp_path: Path) -> None:
    chain = (
        "def c(x):\n    return x + 1\n\n\n"
        "def b(x):\n    return c(x)\n\n\n"
        "def a(x):\n    return b(x)\n\n\n"
        "def node(x):\n    return a(x)\n"
    )
    first = code_fingerprint(load(tmp_path / "a", {"nodes": chain}).node)
    deep = chain.replace("return x + 1", "return x + 2")  # three levels down
    assert code_fingerprint(load(tmp_path / "b", {"nodes": deep}).node) == first
    assert code_fingerprint(load(tmp_path / "c", {"nodes": deep}).node, depth=3) != first


def test_partials_include_their_bound_arguments(tmp_path: Path) -> None:
    module = load(tmp_path / "a", {"nodes": BASE})
    one = code_fingerprint(functools.partial(module.node, factor=1))
    two = code_fingerprint(functools.partial(module.node, factor=2))
    assert one != two
    assert one == code_fingerprint(functools.partial(module.node, factor=1))


def test_library_functions_and_builtins_get_stable_fingerprints() -> None:
    import json

    assert code_fingerprint(len) == code_fingerprint(len)
    assert code_fingerprint(json.dumps) == code_fingerprint(json.dumps)
    assert code_fingerprint(lambda x: x + 1) != code_fingerprint(lambda x: x + 2)


def test_recursion_does_not_loop(tmp_path: Path) -> None:
    text = "def node(x):\n    return node(x - 1) if x else 0\n"
    assert code_fingerprint(load(tmp_path / "a", {"nodes": text}).node)


def _age(module: ModuleType) -> None:
    """Date the package's files an hour back: a freshly written file is 'racy'."""
    import os
    import time

    old = time.time() - 3600
    for path in Path(module.__file__ or "").parent.glob("*.py"):
        os.utime(path, (old, old))


def test_a_source_cache_gives_the_same_fingerprint_without_reading_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from waldo.fingerprint import StatCache, _code

    module = load(tmp_path / "a", {"nodes": BASE})
    _age(module)
    plain = code_fingerprint(module.node)
    _code._AST_CACHE.clear()
    with StatCache(tmp_path / "statcache.db") as cache:
        assert code_fingerprint(module.node, cache=cache) == plain
    # A new process: nothing in memory, the source must not be needed any more.
    _code._AST_CACHE.clear()

    def no_source(obj: object) -> None:
        raise AssertionError("the source was read again")

    monkeypatch.setattr(_code, "_source_tree", no_source)
    with StatCache(tmp_path / "statcache.db") as cache:
        assert code_fingerprint(module.node, cache=cache) == plain


def test_an_edited_file_is_not_answered_from_the_source_cache(tmp_path: Path) -> None:
    from waldo.fingerprint import StatCache, _code

    first = load(tmp_path / "a", {"nodes": BASE})
    _age(first)
    with StatCache(tmp_path / "statcache.db") as cache:
        before = code_fingerprint(first.node, cache=cache)
    # Same file, a logic edit: new stat, so the remembered text is not used.
    path = Path(first.__file__ or "")
    path.write_text(textwrap.dedent(BASE.replace("+ factor", "- factor")))
    importlib.reload(first)
    _age(first)
    _code._AST_CACHE.clear()
    with StatCache(tmp_path / "statcache.db") as cache:
        after = code_fingerprint(first.node, cache=cache)
    assert after != before
    assert after == code_fingerprint(
        load(tmp_path / "b", {"nodes": BASE.replace("+ factor", "- factor")}).node
    )


def test_a_racy_source_file_is_not_remembered(tmp_path: Path) -> None:
    from waldo.fingerprint import StatCache

    module = load(tmp_path / "a", {"nodes": BASE})  # written just now
    with StatCache(tmp_path / "statcache.db") as cache:
        code_fingerprint(module.node, cache=cache)
        assert not cache._code_texts
