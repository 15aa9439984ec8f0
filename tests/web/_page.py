"""Serving a journal for a test, and reading a page's data (the JSON it carries)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from waldo.journal import History
from waldo.web import WaldoServer, make_server

_DATA = re.compile(r"<script id='waldo-data' type='application/json'>(.*?)</script>")


def page_data(html: str) -> dict[str, Any]:
    """The data a page carries for its script."""
    found = _DATA.search(html)
    assert found, html[:300]
    data: dict[str, Any] = json.loads(found.group(1))
    return data


@contextmanager
def served(history: History, **options: Any) -> Iterator[WaldoServer]:
    """``waldo serve``'s server over ``history`` on a free port, in a thread."""
    server = make_server(history, port=0, **options)
    server.start_in_thread()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
