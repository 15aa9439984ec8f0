"""Kedro loads Waldo's entry points at every start (``kedro --help`` too): they import
only themselves, and stand for the real hooks and commands exactly."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from importlib.metadata import distribution
from typing import Any

import click
import pytest
from click.testing import CliRunner

from waldo.cli import app
from waldo.kedro._plugin import DoltHooksEntry, WaldoHooksEntry, commands
from waldo.kedro.dolt import DoltHooks
from waldo.kedro.hooks import WaldoHooks

KEDRO_GROUPS = ("kedro.hooks", "kedro.project_commands", "kedro.global_commands")
# What Kedro has imported when it loads the entry points, for the commands and the hooks.
KEDRO_LOADED = ("kedro.framework.cli.cli", "kedro.framework.hooks")
# All that importing an entry point's module may add to that.
CHEAP = {"waldo", "waldo._errors", "waldo._lazy", "waldo._version", "waldo.kedro"}
HEAVY = {"sqlalchemy", "alembic", "rich", "pandas", "pydantic", "yaml", "xxhash", "psycopg"}


def waldo_entry_modules() -> set[str]:
    entry_points = distribution("waldo").entry_points
    return {ep.module for ep in entry_points if ep.group in KEDRO_GROUPS}


def modules_added_by(module: str) -> set[str]:
    """The modules ``import module`` adds, in a fresh interpreter that loaded Kedro's CLI."""
    code = (
        f"import json, sys\nimport {', '.join(KEDRO_LOADED)}\nbefore = set(sys.modules)\n"
        f"import {module}\nprint(json.dumps(sorted(set(sys.modules) - before)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_the_kedro_entry_points_are_the_plugin_module() -> None:
    assert waldo_entry_modules() == {"waldo.kedro._plugin"}


@pytest.mark.parametrize("module", sorted(waldo_entry_modules()))
def test_an_entry_point_module_imports_nothing_heavy(module: str) -> None:
    added = modules_added_by(module)
    assert not {name for name in added if name.split(".")[0] in HEAVY}
    assert {name for name in added if name.startswith("waldo")} == CHEAP | {module}


def hook_methods(cls: type) -> dict[str, Any]:
    """Each hook a class implements: its parameters and its hook options."""
    return {
        name: (inspect.signature(method), method.kedro_impl)
        for name, method in inspect.getmembers(cls, inspect.isfunction)
        if hasattr(method, "kedro_impl")
    }


@pytest.mark.parametrize(
    ("entry", "real"), [(WaldoHooksEntry, WaldoHooks), (DoltHooksEntry, DoltHooks)]
)
def test_each_entry_hook_stands_for_the_real_one(entry: type, real: type) -> None:
    entry_hooks, real_hooks = hook_methods(entry), hook_methods(real)
    assert sorted(entry_hooks) == sorted(real_hooks)
    for name, (signature, options) in real_hooks.items():
        entry_signature, entry_options = entry_hooks[name]
        assert list(entry_signature.parameters) == list(signature.parameters), name
        defaults = [p.default for p in signature.parameters.values()]
        assert [p.default for p in entry_signature.parameters.values()] == defaults, name
        assert entry_options == options, name


def test_kedro_waldo_is_the_waldo_command_line() -> None:
    listed = commands.get_command(click.Context(commands), "waldo")
    assert listed is not None
    assert listed.get_short_help_str(limit=200) == app.get_short_help_str(limit=200)

    shown = CliRunner().invoke(commands, ["waldo", "--help"], prog_name="kedro")
    assert shown.exit_code == 0, shown.output
    assert shown.output == CliRunner().invoke(app, ["--help"], prog_name="kedro waldo").output
