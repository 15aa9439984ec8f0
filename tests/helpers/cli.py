"""Running the ``waldo`` command line in a subprocess, as a user would."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from tests.kedro._e2e import subprocess_env


def run_waldo(
    *args: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """``waldo ARGS`` in ``cwd`` (give ``--db URL`` first to pick the journal; ``env``
    adds to the environment)."""
    return subprocess.run(
        [sys.executable, "-m", "waldo.cli", *args],
        cwd=cwd,
        env=subprocess_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
