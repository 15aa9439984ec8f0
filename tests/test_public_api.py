"""The public surface: everything in ``__all__`` exists, is sorted, and errors share a root."""

from __future__ import annotations

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
