"""The git commit a run's code came from, and whether the tree had local changes."""

from __future__ import annotations

import subprocess
from pathlib import Path


def git_state(path: Path) -> tuple[str | None, bool | None]:
    """(sha, dirty) of the repository holding ``path``; (None, None) outside git."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=path,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=path,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None, None
    return sha or None, bool(status.strip())
