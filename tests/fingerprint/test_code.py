"""Code fingerprints: every edit of the project's code that can change a node's result
changes its fingerprint; comments, docstrings and layout do not.

Each test writes a small package (always named ``pkg``, loaded afresh), fingerprints a
node function, edits one thing, loads the package again and compares.
"""

from __future__ import annotations

import functools
import importlib
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.helpers.packages import forget, load_package
from waldo.fingerprint import CodeManifest, StatCache, _code_source, code_fingerprint, code_manifest
from waldo.journal._staleness import code_reasons

PACKAGE = "pkg"


def load(root: Path, files: Mapping[str, str], module: str = "nodes") -> ModuleType:
    """Write package ``pkg`` (files by module name, ``a/b`` for subpackages) under
    ``root``, forget any earlier ``pkg`` and import ``pkg.<module>``."""
    package = {f"{PACKAGE}/{name}.py": text for name, text in files.items()}
    return load_package(root, package, f"{PACKAGE}.{module}")


def manifest_of(
    root: Path, files: Mapping[str, str], node: str = "node", **options: Any
) -> CodeManifest:
    """Load the package and fingerprint ``nodes.<node>`` at once (the next load
    replaces the package in ``sys.modules``). ``node`` may be an expression."""
    module = load(root, files)
    return code_manifest(eval(node, {**vars(module), "functools": functools}), **options)


def fingerprint(root: Path, files: Mapping[str, str], node: str = "node", **options: Any) -> str:
    return manifest_of(root, files, node, **options).digest


def edited(files: Mapping[str, str], module: str, old: str, new: str) -> dict[str, str]:
    assert old in files[module], old
    return {**files, module: files[module].replace(old, new)}


def changes(
    tmp_path: Path,
    files: Mapping[str, str],
    edit: tuple[str, str, str],
    node: str = "node",
    **options: Any,
) -> bool:
    """Whether editing ``(module, old, new)`` changes the node's fingerprint."""
    before = fingerprint(tmp_path / "before", files, node, **options)
    after = fingerprint(tmp_path / "after", edited(files, *edit), node, **options)
    assert before == fingerprint(tmp_path / "again", files, node, **options), "not stable"
    return before != after


# -- the function's own source ---------------------------------------------------------
BASE = '''
def helper(x):
    return x * 2


def node(x, factor=3):
    """Double and scale."""
    # a comment
    return helper(x) + factor
'''


@pytest.mark.parametrize(
    "edit",
    [
        ("# a comment", "# another, longer comment"),
        ('"""Double and scale."""', '"""Completely different words."""'),
        ("return helper(x) + factor", "return   helper( x )+factor"),
        ("def node(x, factor=3):", "def node(\n    x,\n    factor=3,\n):"),
        ("return x * 2\n", "return x * 2\n\n\n# trailing comment\n"),
        ("def node(x, factor=3):", "def node(x: float, factor: int = 3) -> float:"),
    ],
    ids=["comment", "docstring", "spacing", "line breaks", "trailing comment", "type hints"],
)
def test_cosmetic_edits_keep_the_fingerprint(tmp_path: Path, edit: tuple[str, str]) -> None:
    assert not changes(tmp_path, {"nodes": BASE}, ("nodes", *edit))


@pytest.mark.parametrize(
    "edit",
    [
        ("return helper(x) + factor", "return helper(x) - factor"),
        ("factor=3", "factor=4"),
        ("return x * 2", "return x * 3"),
    ],
    ids=["logic", "default argument", "called helper"],
)
def test_logic_edits_change_the_fingerprint(tmp_path: Path, edit: tuple[str, str]) -> None:
    assert changes(tmp_path, {"nodes": BASE}, ("nodes", *edit))


# -- helpers, at any depth, in any module of the package --------------------------------
def test_helpers_in_another_module_of_the_package_count(tmp_path: Path) -> None:
    files = {
        "utils": "def scale(x):\n    return x * 2\n",
        "nodes": "from .utils import scale\n\n\ndef node(x):\n    return scale(x)\n",
    }
    assert changes(tmp_path, files, ("utils", "x * 2", "x * 5"))


def test_helpers_count_at_any_depth(tmp_path: Path) -> None:
    files = {
        "deep/est": "def e(x):\n    return x + 1\n",
        "d": "from pkg.deep.est import e\n\n\ndef d(x):\n    return e(x)\n",
        "c": "from pkg import d\n\n\ndef c(x):\n    return d.d(x)\n",
        "b": "from .c import c\n\n\ndef b(x):\n    return c(x)\n",
        "nodes": "from .b import b\n\n\ndef node(x):\n    return b(x)\n",
    }
    assert changes(tmp_path, files, ("deep/est", "x + 1", "x + 2"))  # four calls away


def test_cycles_are_cut(tmp_path: Path) -> None:
    files = {
        "even": "def even(n):\n    from .odd import odd\n\n    return n == 0 or odd(n - 1)\n",
        "odd": "from .even import even\n\n\ndef odd(n):\n    return n != 0 and even(n - 1)\n",
        "nodes": "from .even import even\n\n\ndef node(n):\n    return even(n)\n",
    }
    assert changes(tmp_path, files, ("odd", "n != 0 and", "n > 0 and"))


def test_recursion_does_not_loop(tmp_path: Path) -> None:
    files = {"nodes": "def node(x):\n    return node(x - 1) if x else 0\n"}
    assert changes(tmp_path, files, ("nodes", "else 0", "else 1"))


def test_functions_imported_inside_the_node_count(tmp_path: Path) -> None:
    files = {
        "utils": "LABEL = 'a'\n\n\ndef scale(x):\n    return x * 2\n",
        "nodes": "def node(x):\n    from .utils import scale\n\n    return scale(x)\n",
    }
    assert changes(tmp_path, files, ("utils", "x * 2", "x * 3"))


# -- module-level names: constants by value ---------------------------------------------
CONSTANTS = {
    "config": """
        import re

        LABEL = "a"
        LIMITS = {"low": 1, "high": [5, 9]}
        PATTERN = re.compile(r"\\d+", re.IGNORECASE)
    """,
    "utils": """
        from .config import LABEL


        def tag(x):
            return f"{x}-{LABEL}"
    """,
    "nodes": """
        from pkg import config
        from .config import LIMITS, PATTERN
        from .utils import tag

        OWN = "x"


        def node(x):
            return PATTERN.sub(OWN, tag(x)) + str(LIMITS["high"])


        def through_module(x):
            return config.LABEL + x
    """,
}


@pytest.mark.parametrize(
    ("edit", "node"),
    [
        (("nodes", 'OWN = "x"', 'OWN = "y"'), "node"),
        (("config", 'LABEL = "a"', 'LABEL = "b"'), "node"),
        (("config", 'LABEL = "a"', 'LABEL = "b"'), "through_module"),
        (("config", '"high": [5, 9]', '"high": [5, 10]'), "node"),
        (("config", 'r"\\d+"', 'r"\\d*"'), "node"),
        (("config", "re.IGNORECASE", "re.MULTILINE"), "node"),
    ],
    ids=[
        "in the node's module",
        "read by a helper in another module",
        "read through a module (config.LABEL)",
        "dict",
        "regex pattern",
        "regex flags",
    ],
)
def test_module_level_constants_count_by_value(
    tmp_path: Path, edit: tuple[str, str, str], node: str
) -> None:
    assert changes(tmp_path, CONSTANTS, edit, node)


def test_a_constant_counts_by_value_not_by_how_it_is_written(tmp_path: Path) -> None:
    reordered = ('{"low": 1, "high": [5, 9]}', '{"high": [5, 9],  "low": 1}  # same')
    assert not changes(tmp_path, CONSTANTS, ("config", *reordered))
    computed = ('LABEL = "a"', 'LABEL = "A".lower()')
    assert not changes(tmp_path, CONSTANTS, ("config", *computed))


def test_loggers_and_type_aliases_count_without_a_warning(tmp_path: Path) -> None:
    files = {
        "nodes": """
            import logging
            from typing import Optional

            log = logging.getLogger(__name__)
            Maybe = Optional[int]


            def node(x):
                log.info("node")
                return x if isinstance(x, Maybe.__args__) else None
        """
    }
    assert manifest_of(tmp_path / "a", files).notes == ()
    assert changes(tmp_path, files, ("nodes", "Optional[int]", "Optional[float]"))


def test_names_the_node_does_not_read_do_not_count(tmp_path: Path) -> None:
    files = {**CONSTANTS, "config": textwrap.dedent(CONSTANTS["config"]) + "\nUNUSED = 1\n"}
    assert not changes(tmp_path, files, ("config", "UNUSED = 1", "UNUSED = 2"))


def test_the_parts_name_what_changed(tmp_path: Path) -> None:
    before = manifest_of(tmp_path / "a", CONSTANTS)
    after = manifest_of(tmp_path / "b", edited(CONSTANTS, "config", '"a"', '"b"'))
    assert {"function pkg.nodes.node", "helper pkg.utils.tag", "constant pkg.utils.LABEL"} <= set(
        before.parts
    )
    assert code_reasons(after, before) == ["code changed (constant pkg.utils.LABEL)"]
    assert code_reasons(after, None) == ["code changed"]


# -- a value that cannot be fingerprinted: by source, with one note ---------------------
OPAQUE = {
    "model": """
        import threading


        class Model:
            def __init__(self, k):
                self.k = k
                self.lock = threading.Lock()

            def predict(self, x):
                return x * self.k
    """,
    "nodes": """
        from .model import Model

        MODEL = Model(3)  # a lock inside: no value fingerprint


        def node(x):
            return MODEL.predict(x)
    """,
}


def test_a_value_that_cannot_be_fingerprinted_counts_by_source(tmp_path: Path) -> None:
    manifest = manifest_of(tmp_path / "a", OPAQUE)
    [note] = manifest.notes
    assert note.startswith("pkg.nodes.MODEL (a pkg.model.Model) cannot be fingerprinted by value")
    assert "the source of its definition counts instead" in note
    assert changes(tmp_path / "edit", OPAQUE, ("nodes", "Model(3)", "Model(4)"))
    assert changes(tmp_path / "method", OPAQUE, ("model", "x * self.k", "x + self.k"))
    assert not changes(tmp_path / "comment", OPAQUE, ("nodes", "# a lock inside", "# other"))


def test_a_value_defined_in_another_module_counts_by_its_source_there(tmp_path: Path) -> None:
    files = {
        "model": textwrap.dedent(OPAQUE["model"]) + "\n\nMODEL = Model(3)\n",
        "nodes": "from .model import MODEL\n\n\ndef node(x):\n    return MODEL.predict(x)\n",
    }
    assert changes(tmp_path, files, ("model", "MODEL = Model(3)", "MODEL = Model(4)"))


# -- default arguments, partials, closures, lambdas --------------------------------------
ARGUMENTS = {
    "utils": """
        import functools
        import re

        FACTOR = 2
        WORD = re.compile("a+")


        def clean(s):
            return s.strip()


        def node(x, factor=FACTOR, *, fn=clean):
            return fn(x) * factor


        def apply(x, fn):
            return fn(x)


        def make(pattern):
            def inner(s):
                return pattern.sub("", s)

            return inner


        by_partial = functools.partial(apply, fn=clean)
        by_closure = make(WORD)
        by_lambda = lambda s: clean(s) * FACTOR  # noqa: E731
    """,
    "nodes": "from .utils import by_closure, by_lambda, by_partial, node\n",
}


@pytest.mark.parametrize(
    ("edit", "node"),
    [
        (("FACTOR = 2", "FACTOR = 3"), "node"),
        (("return s.strip()", "return s.lower()"), "node"),
        (("return s.strip()", "return s.lower()"), "by_partial"),
        (("functools.partial(apply, fn=clean)", "functools.partial(apply, fn=str)"), "by_partial"),
        (('re.compile("a+")', 're.compile("b+")'), "by_closure"),
        (('pattern.sub("", s)', 'pattern.sub("-", s)'), "by_closure"),
        (("FACTOR = 2", "FACTOR = 3"), "by_lambda"),
        (("return s.strip()", "return s.lower()"), "by_lambda"),
        (("clean(s) * FACTOR", "clean(s) + FACTOR"), "by_lambda"),
    ],
    ids=[
        "positional default (a constant)",
        "keyword-only default (a function)",
        "partial argument (a function)",
        "partial argument replaced",
        "closure cell (a regex)",
        "closure's own code",
        "lambda reads a constant",
        "lambda calls a helper",
        "lambda's own code",
    ],
)
def test_arguments_closures_and_lambdas_count(
    tmp_path: Path, edit: tuple[str, str], node: str
) -> None:
    assert changes(tmp_path, ARGUMENTS, ("utils", *edit), node)


def test_a_closure_cell_without_a_value_counts_by_the_source_of_its_maker(
    tmp_path: Path,
) -> None:
    files = {
        "model": OPAQUE["model"],
        "nodes": """
            from .model import Model


            def make(k):
                model = Model(k)

                def node(x):
                    return model.predict(x)

                return node


            node = make(3)
        """,
    }
    [note] = manifest_of(tmp_path / "a", files).notes
    assert note.startswith("closure variable model of pkg.nodes.make.<locals>.node")
    assert "the source of the function that made it" in note
    assert changes(tmp_path, files, ("nodes", "model = Model(k)", "model = Model(k + 1)"))


def test_partials_include_their_bound_arguments(tmp_path: Path) -> None:
    one = fingerprint(tmp_path / "a", {"nodes": BASE}, "functools.partial(node, factor=1)")
    two = fingerprint(tmp_path / "b", {"nodes": BASE}, "functools.partial(node, factor=2)")
    assert one != two
    assert one == fingerprint(tmp_path / "c", {"nodes": BASE}, "functools.partial(node, factor=1)")


def test_two_lambdas_on_one_line_differ(tmp_path: Path) -> None:
    files = {"nodes": "pair = (lambda x: x + 1, lambda x: x + 2)\n"}
    assert fingerprint(tmp_path, files, "pair[0]") != fingerprint(tmp_path, files, "pair[1]")


# -- methods, classes, callable objects, decorators -------------------------------------
CLASSES = {
    "helpers": """
        def shout(s):
            return s.upper()
    """,
    "nodes": """
        import functools

        from .helpers import shout


        class Cleaner:
            SUFFIX = "!"

            def __init__(self, times=1):
                self.times = times

            def run(self, s):
                return self.once(s) * self.times

            def once(self, s):
                return shout(s) + self.SUFFIX

            def __call__(self, s):
                return self.run(s)


        def node(s):
            return Cleaner().run(s)


        def traced(func):
            @functools.wraps(func)
            def wrapper(*args):
                return func(*args)

            return wrapper


        @traced
        def decorated(s):
            return shout(s)


        @functools.lru_cache
        def cached(s):
            return shout(s)


        def uses_cached(s):
            return cached(s)


        bound = Cleaner(2).run
        callable_object = Cleaner(2)
    """,
}


@pytest.mark.parametrize(
    ("edit", "node"),
    [
        (("nodes", 'SUFFIX = "!"', 'SUFFIX = "?"'), "node"),
        (("nodes", "shout(s) + self.SUFFIX", "shout(s) + self.SUFFIX * 2"), "node"),
        (("helpers", "s.upper()", "s.lower()"), "node"),
        (("nodes", "Cleaner(2).run", "Cleaner(3).run"), "bound"),
        (("nodes", "shout(s) + self.SUFFIX", "shout(s) + self.SUFFIX * 2"), "bound"),
        (("nodes", "object = Cleaner(2)", "object = Cleaner(3)"), "callable_object"),
        (("helpers", "s.upper()", "s.lower()"), "callable_object"),
        (("helpers", "s.upper()", "s.lower()"), "decorated"),
        (("helpers", "s.upper()", "s.lower()"), "uses_cached"),
    ],
    ids=[
        "class attribute",
        "another method of the class",
        "a helper a method calls",
        "bound method: its instance",
        "bound method: a method it calls on self",
        "callable object: its attributes",
        "callable object: a helper",
        "decorated with functools.wraps",
        "functools.lru_cache helper",
    ],
)
def test_methods_classes_and_decorators_count(
    tmp_path: Path, edit: tuple[str, str, str], node: str
) -> None:
    assert changes(tmp_path, CLASSES, edit, node)


# -- what the project is -----------------------------------------------------------------
def test_other_packages_count_when_listed(tmp_path: Path) -> None:
    other = tmp_path / "shared"
    (other / "teamlib").mkdir(parents=True)
    helper = other / "teamlib" / "__init__.py"
    helper.write_text("def scale(x):\n    return x * 2\n")
    sys.path.insert(0, str(other))
    try:
        files = {"nodes": "from teamlib import scale\n\n\ndef node(x):\n    return scale(x)\n"}
        plain = fingerprint(tmp_path / "a", files)
        listed = fingerprint(tmp_path / "a", files, packages=["teamlib"])
        helper.write_text("def scale(x):\n    return x * 3\n")
        forget("teamlib")
        assert fingerprint(tmp_path / "b", files) == plain  # not the project's: ignored
        assert fingerprint(tmp_path / "b", files, packages=["teamlib"]) != listed
    finally:
        sys.path.remove(str(other))
        forget("teamlib")


SCRIPT = """
from waldo.fingerprint import code_manifest

LABEL = "a"


def helper(x):
    return x + LABEL


def node(x):
    return helper(x)


print(sorted(code_manifest(node).parts), code_manifest(node).digest)
"""


def test_code_outside_any_package_counts_its_own_module(tmp_path: Path) -> None:
    def run(text: str) -> str:
        (tmp_path / "run.py").write_text(text)
        command = [sys.executable, str(tmp_path / "run.py")]
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout

    first = run(SCRIPT)
    parts = "['constant __main__.LABEL', 'function __main__.node', 'helper __main__.helper']"
    assert first.startswith(parts)
    assert run(SCRIPT.replace('LABEL = "a"', 'LABEL = "b"')) != first


def test_standard_library_and_installed_code_never_count_as_source() -> None:
    import json

    import pandas as pd

    assert code_fingerprint(len) == code_fingerprint(len)
    assert code_fingerprint(json.dumps) != code_fingerprint(json.loads)
    manifest = code_manifest(pd.concat, libraries=True)
    assert list(manifest.parts) == ["function pandas.concat"]  # its name, not its source
    assert manifest.libraries == {"pandas": pd.__version__}
    assert code_manifest(json.dumps, libraries=True).libraries == {}


# -- libraries: by version, off unless asked ---------------------------------------------
def tiny_distribution(
    site: Path, version: str, dist: str = "tinylib", module: str = "tinylib"
) -> None:
    """A module and the dist-info of the distribution that installed it, in ``site``."""
    stem = dist.replace("-", "_")  # as installers name the folder
    for old in site.glob(f"{stem}-*.dist-info"):
        for path in old.iterdir():
            path.unlink()
        old.rmdir()
    (site / module).mkdir(parents=True, exist_ok=True)
    (site / module / "__init__.py").write_text("def double(x):\n    return 2 * x\n")
    info = site / f"{stem}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "top_level.txt").write_text(f"{module}\n")
    importlib.invalidate_caches()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "venv" / "lib" / "site-packages"
    folder.mkdir(parents=True)
    sys.path.insert(0, str(folder))
    yield folder
    sys.path.remove(str(folder))
    forget("tinylib")
    forget("tinymod")
    importlib.invalidate_caches()


@pytest.mark.parametrize(("dist", "module"), [("tinylib", "tinylib"), ("tiny-stats", "tinymod")])
def test_library_versions_count_only_when_asked(
    tmp_path: Path, site: Path, dist: str, module: str
) -> None:
    files = {"nodes": f"import {module}\n\n\ndef node(x):\n    return {module}.double(x)\n"}
    tiny_distribution(site, "1.0", dist, module)
    off = fingerprint(tmp_path / "a", files)
    on = manifest_of(tmp_path / "a", files, libraries=True)
    assert on.libraries == {dist: "1.0"}
    tiny_distribution(site, "2.0", dist, module)
    assert fingerprint(tmp_path / "b", files) == off
    upgraded = manifest_of(tmp_path / "b", files, libraries=True)
    assert upgraded.digest != on.digest
    assert code_reasons(upgraded, on) == [f"library {dist} 1.0 -> 2.0"]


# -- stability and caches ------------------------------------------------------------------
STABLE = """
import re

WORDS = {"alpha", "beta", "gamma", "delta"}
PATTERN = re.compile("|".join(sorted(WORDS)))
check = lambda s: s in {"alpha", "beta", "gamma"}  # noqa: E731


def node(s, allowed=frozenset({"x", "y", "z"})):
    return check(s) and s in WORDS and s not in allowed and PATTERN.match(s)
"""


def test_the_fingerprint_is_the_same_in_every_process(tmp_path: Path) -> None:
    load(tmp_path, {"nodes": STABLE})
    script = (
        f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import pkg.nodes as n; "
        "from waldo.fingerprint import code_fingerprint as f; print(f(n.node), f(n.check))"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(digests) == 1


def _age(root: Path) -> None:
    """Date the package's files an hour back: a freshly written file is 'racy'."""
    old = time.time() - 3600
    for path in (root / PACKAGE).rglob("*.py"):
        os.utime(path, (old, old))


def _clear_memory_caches() -> None:
    _code_source._FUNCTION_TEXTS.clear()
    _code_source._CLASS_SOURCES.clear()


def test_a_source_cache_gives_the_same_fingerprint_without_reading_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = load(tmp_path, {"nodes": CLASSES["nodes"], "helpers": CLASSES["helpers"]})
    _age(tmp_path)
    plain = code_fingerprint(module.node)
    _clear_memory_caches()
    with StatCache(tmp_path / "statcache.db") as cache:
        assert code_fingerprint(module.node, cache=cache) == plain
    _clear_memory_caches()  # a new process: nothing in memory

    def no_source(obj: object) -> None:
        raise AssertionError("the source was read again")

    monkeypatch.setattr(_code_source, "_source_tree", no_source)
    with StatCache(tmp_path / "statcache.db") as cache:
        assert code_fingerprint(module.node, cache=cache) == plain


def test_an_edited_file_is_not_answered_from_the_source_cache(tmp_path: Path) -> None:
    first = load(tmp_path / "a", {"nodes": BASE})
    _age(tmp_path / "a")
    with StatCache(tmp_path / "statcache.db") as cache:
        before = code_fingerprint(first.node, cache=cache)
    # Same file, a logic edit: new stat, so the remembered text is not used.
    path = Path(first.__file__ or "")
    path.write_text(textwrap.dedent(BASE.replace("+ factor", "- factor")))
    importlib.reload(first)
    _age(tmp_path / "a")
    _clear_memory_caches()
    with StatCache(tmp_path / "statcache.db") as cache:
        after = code_fingerprint(first.node, cache=cache)
    assert after != before
    assert after == fingerprint(tmp_path / "b", {"nodes": BASE.replace("+ factor", "- factor")})


def test_a_racy_source_file_is_not_remembered(tmp_path: Path) -> None:
    module = load(tmp_path, {"nodes": BASE})  # written just now
    with StatCache(tmp_path / "statcache.db") as cache:
        code_fingerprint(module.node, cache=cache)
        assert not cache._code_texts
