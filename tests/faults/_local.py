"""Local faults for the journal's folder: making a folder read-only, even for root.

A non-root user gets the write bits taken away. Root ignores those, so for root the
folder is bind-mounted onto itself read-only (the kernel refuses every write, as on a
read-only volume); where mounting is not allowed the test is skipped.
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """``folder`` and everything in it cannot be written until the block ends."""
    if os.geteuid() != 0:
        with _without_write_bits(folder):
            yield
        return
    mounted = subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"root cannot make {folder} read-only here: {mounted.stderr.decode()}")
    try:
        subprocess.run(
            ["mount", "-o", "remount,bind,ro", str(folder), str(folder)],
            check=True,
            capture_output=True,
        )
        yield
    finally:
        subprocess.run(["umount", str(folder)], check=True, capture_output=True)


@contextmanager
def _without_write_bits(folder: Path) -> Iterator[None]:
    paths = [folder, *folder.rglob("*")]
    modes = {path: path.stat().st_mode for path in paths}
    writable = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
    try:
        for path in reversed(paths):  # files first, their folder last
            path.chmod(modes[path] & ~writable)
        yield
    finally:
        for path in paths:
            path.chmod(modes[path])
