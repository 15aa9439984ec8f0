"""Running the ``waldo`` command line in a subprocess, as a user would."""

from __future__ import annotations

import subprocess
import sys

from tests.kedro._e2e import subprocess_env


def run_waldo(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``waldo ARGS`` (give ``--db URL`` first to pick the journal)."""
    return subprocess.run(
        [sys.executable, "-m", "waldo.cli", *args],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
