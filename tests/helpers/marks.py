"""What the running test is marked with, for the rules in ``tests/conftest.py``."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import pytest

current_item: pytest.Item | None = None
_WALDO_KEDRO_COMMANDS = {"run", "demo"}


class UnmarkedTest(Exception):
    """A test does something its markers do not say."""


def require(marker: str, what: str) -> None:
    """Fail the running test unless it carries ``marker`` (it does ``what``)."""
    item = current_item
    if item is not None and item.get_closest_marker(marker) is None:
        raise UnmarkedTest(f"{item.nodeid} {what}: mark it @pytest.mark.{marker}")


def command_text(command: Any) -> str:
    if isinstance(command, (str, bytes, os.PathLike)):
        return os.fsdecode(command)
    return " ".join(os.fsdecode(part) for part in command)


def starts_kedro(command: Any) -> bool:
    """Does ``command`` (a Popen argument) run Kedro: ``kedro ...``, ``python -m kedro``,
    or ``waldo run``/``waldo demo`` (which start ``kedro run``)?"""
    if isinstance(command, (str, bytes, os.PathLike)):
        parts: Sequence[str] = command_text(command).split()
    else:
        parts = [os.fsdecode(part) for part in command]
    names = [os.path.basename(part) for part in parts]
    if "kedro" in names[:1] or _module_after_m(parts) == "kedro":
        return True
    waldo = names[:1] == ["waldo"] or _module_after_m(parts) == "waldo.cli"
    return waldo and bool(_WALDO_KEDRO_COMMANDS & set(parts[1:]))


def _module_after_m(parts: Sequence[str]) -> str | None:
    for at, part in enumerate(parts[:-1]):
        if part == "-m":
            return parts[at + 1]
    return None
