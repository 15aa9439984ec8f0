"""Preflight: stop a run before any node runs when it cannot succeed.

Opt-in with ``preflight: true`` in ``waldo.yml``, or a mapping::

    preflight:
      inputs: true                      # every input no node produces must exist
      commands: ["ruff check src", "mypy src"]   # run first; a failure stops the run

Every missing input is listed at once (not just the first one Kedro would trip over
minutes into the run), and the run is recorded as failed with that message.
"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path
from typing import Any

from waldo._errors import WaldoError
from waldo.kedro._datasets import dataset_of, is_parameter, local_path

COMMAND_TIMEOUT_S = 1800


class PreflightError(WaldoError):
    """The preflight checks failed: the run stops before any node runs."""


def preflight_options(value: Any) -> dict[str, Any]:
    """Normalise ``preflight:`` from waldo.yml (true, false or a mapping)."""
    if value is True:
        return {"inputs": True, "commands": []}
    if not value:
        return {}
    if not isinstance(value, dict):
        raise PreflightError("`preflight:` in waldo.yml must be true, false or a mapping.")
    commands = value.get("commands") or []
    if isinstance(commands, str):
        commands = [commands]
    return {"inputs": bool(value.get("inputs", True)), "commands": list(commands)}


def missing_inputs(pipeline: Any, catalog: Any) -> list[str]:
    """The pipeline's free inputs (read, produced by no node) that do not exist."""
    missing = []
    for name in sorted(pipeline.inputs()):
        if is_parameter(name):
            continue
        dataset = dataset_of(catalog, name)
        if dataset is None:
            missing.append(f"{name} (not in the catalog)")
            continue
        try:
            exists = bool(dataset.exists())
        except Exception as exc:  # a dataset that cannot even say: report it
            missing.append(f"{name} (cannot check: {exc})")
            continue
        if not exists:
            path = local_path(dataset)
            missing.append(f"{name} ({path})" if path else name)
    return missing


def run_commands(commands: list[str], project_path: Path) -> None:
    for command in commands:
        try:
            done = subprocess.run(
                shlex.split(command),
                cwd=project_path,
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT_S,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PreflightError(f"preflight command `{command}` could not run: {exc}") from exc
        if done.returncode != 0:
            tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
            details = ("; output: " + " | ".join(tail)) if tail else ""
            raise PreflightError(
                f"preflight command `{command}` failed with exit status {done.returncode}"
                f"{details}; the run stopped before any node ran."
            )


def run_preflight(pipeline: Any, catalog: Any, options: dict[str, Any], project: Path) -> None:
    """Raise :class:`PreflightError` when the run should not start."""
    if options.get("inputs"):
        missing = missing_inputs(pipeline, catalog)
        if missing:
            raise PreflightError(
                f"preflight: {len(missing)} input(s) missing: {', '.join(missing)}; "
                "the run stopped before any node ran."
            )
    run_commands(options.get("commands") or [], project)
