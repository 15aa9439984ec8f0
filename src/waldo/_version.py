"""The version of Waldo: the one place it is written (pyproject.toml reads it from here).

A literal, not ``importlib.metadata``: reading the package metadata costs every command
line more than the rest of this package's start-up.
"""

from __future__ import annotations

__version__ = "0.1.0"
