"""What the running test is marked with, for the rules in ``tests/conftest.py``."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import pytest

current_item: pytest.Item | None = None
_WALDO_KEDRO_COMMANDS = {"run", "demo"}
_WALDO_GLOBAL_OPTIONS_WITH_VALUE = {"-C", "--project", "--env", "--db"}


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
    if names[:1] == ["waldo"]:
        return _waldo_command(parts[1:]) in _WALDO_KEDRO_COMMANDS
    if _module_after_m(parts) == "waldo.cli":
        return _waldo_command(parts[parts.index("-m") + 2 :]) in _WALDO_KEDRO_COMMANDS
    return False


def _module_after_m(parts: Sequence[str]) -> str | None:
    for at, part in enumerate(parts[:-1]):
        if part == "-m":
            return parts[at + 1]
    return None


def _waldo_command(args: Sequence[str]) -> str | None:
    """The subcommand of ``waldo ARGS``: its first word that is no global option."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in _WALDO_GLOBAL_OPTIONS_WITH_VALUE:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None
