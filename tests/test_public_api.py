"""The public surface: everything in ``__all__`` exists, is sorted, and errors share a root."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

import waldo


def test_all_names_exist_and_are_sorted() -> None:
    assert waldo.__all__ == sorted(waldo.__all__)
    for name in waldo.__all__:
        assert hasattr(waldo, name), name


def test_every_public_error_derives_from_waldo_error() -> None:
    errors = [
        getattr(waldo, n)
        for n in waldo.__all__
        if n.endswith(("Error", "Unavailable", "NotFound", "Input", "Id"))
    ]
    assert errors
    for error in errors:
        assert issubclass(error, waldo.WaldoError), error


def test_store_unavailable_is_a_store_error() -> None:
    assert issubclass(waldo.StoreUnavailable, waldo.StoreError)


LAZY_PACKAGES = ("waldo", "waldo.journal", "waldo.store", "waldo.fingerprint")


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_every_public_name_of_a_package_imports(package: str) -> None:
    module = importlib.import_module(package)
    assert set(module.__all__) <= set(dir(module))
    for name in module.__all__:
        assert getattr(module, name) is not None, name
        assert name in vars(importlib.import_module(package)), name  # kept after first use


def test_importing_the_packages_imports_none_of_their_modules() -> None:
    code = (
        f"import json, sys\nimport {', '.join(LAZY_PACKAGES)}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('waldo'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert set(json.loads(done.stdout)) == {
        *LAZY_PACKAGES,
        "waldo._errors",
        "waldo._lazy",
        "waldo._version",
    }
