"""Helpers for the end-to-end tests of the Kedro plugin: real ``kedro run`` subprocesses.

Every module builds one project (a module-scoped fixture) and runs ``kedro`` as few
times as it can; the assertions read the journal back through :class:`waldo.journal.Journal`
or through the ``waldo`` command line, the way a user would.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from waldo.journal import Journal, resolve_settings
from waldo.kedro._project import kedro_env

#: The eleven hooks of the seed plugin plus ``after_context_created``.
ALL_EVENT_TYPES = (
    "after_context_created",
    "after_catalog_created",
    "before_pipeline_run",
    "after_pipeline_run",
    "on_pipeline_error",
    "before_node_run",
    "after_node_run",
    "on_node_error",
    "before_dataset_loaded",
    "after_dataset_loaded",
    "before_dataset_saved",
    "after_dataset_saved",
)

_WARNING = re.compile(r"WARNING\s+waldo: (?P<message>.*)")


def subprocess_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a ``kedro``/``waldo`` subprocess: wide log lines, no telemetry."""
    env = kedro_env()
    env.pop("WALDO_DB_URL", None)
    env["COLUMNS"] = "400"  # rich wraps log lines at the terminal width otherwise
    env.update(extra or {})
    return env


def kedro_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "kedro", *args]


def run_kedro(
    root: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``kedro ARGS`` in ``root`` (``kedro run ...``, ``kedro waldo ...``)."""
    return subprocess.run(
        kedro_argv(*args),
        cwd=root,
        env=subprocess_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def waldo(
    root: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``waldo -C ROOT ARGS`` as a user would type it."""
    return subprocess.run(
        [sys.executable, "-m", "waldo.cli", "-C", str(root), *args],
        env=subprocess_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def waldo_json(root: Path, *args: str, env: Mapping[str, str] | None = None) -> Any:
    result = waldo(root, *args, "--format", "json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def output_of(result: subprocess.CompletedProcess[str]) -> str:
    return (result.stdout or "") + (result.stderr or "")


def waldo_warnings(text: str) -> list[str]:
    """The ``waldo: ...`` warnings in a ``kedro run`` log."""
    return [m.group("message").strip() for m in _WARNING.finditer(text)]


def journal_at(root: Path, url: str | None = None) -> Journal:
    """The journal of a project: its default SQLite file, or the store at ``url``."""
    environ = {"WALDO_DB_URL": url} if url else {}
    return Journal(resolve_settings(root, environ=environ))


def event_counts(journal: Journal, run_id: str) -> Counter[str]:
    return Counter(e["event_type"] for e in journal.history.events(run_id))


def expected_events(nodes: int, *, failed_node: int | None = None) -> Counter[str]:
    """Exact event counts of a run of ``chain_project`` (each node loads its input and
    ``params:factor`` and saves one output); ``failed_node`` raised before saving."""
    ran = nodes if failed_node is None else failed_node + 1
    ok = nodes if failed_node is None else failed_node
    counts = Counter(
        {
            "after_context_created": 1,
            "after_catalog_created": 1,
            "before_pipeline_run": 1,
            "before_node_run": ran,
            "after_node_run": ok,
            "before_dataset_loaded": 2 * ran,
            "after_dataset_loaded": 2 * ran,
            "before_dataset_saved": ok,
            "after_dataset_saved": ok,
        }
    )
    if failed_node is None:
        counts["after_pipeline_run"] = 1
    else:
        counts["on_node_error"] = 1
        counts["on_pipeline_error"] = 1
    return counts


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.email=test@example.com", "-c", "user.name=Waldo Test", *args],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
