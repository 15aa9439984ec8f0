"""Fixtures of the collector tests: the test kit's local JSON server."""

from __future__ import annotations

from waldo.collect.testing import json_server

__all__ = ["json_server"]
