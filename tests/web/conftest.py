"""Fixtures of the web page's tests: one headless Chromium per test module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers.browser import CHROMIUM, chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, through Playwright (skips the test without it)."""
    if not CHROMIUM.exists():
        pytest.skip("needs /usr/bin/chromium")
    with chromium() as b:
        yield b
