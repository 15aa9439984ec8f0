"""Waldo's command line (``waldo ...``, and ``kedro waldo ...`` inside a project)."""

from __future__ import annotations

from waldo.cli._app import app, main

__all__ = ["app", "main"]
