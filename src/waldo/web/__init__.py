"""Waldo's web page and static reports: run list, live run page, diffs.

``waldo serve`` runs :func:`make_server` over a project's journal; ``waldo report``
writes :func:`report_html` to a file. Both draw the same run page.
"""

from __future__ import annotations

from waldo.web._layout import Layout, layout
from waldo.web._report import report_html, write_report
from waldo.web._server import (
    WaldoServer,
    WebApp,
    check_token,
    is_loopback,
    make_server,
    new_token,
)

__all__ = [
    "Layout",
    "WaldoServer",
    "WebApp",
    "check_token",
    "is_loopback",
    "layout",
    "make_server",
    "new_token",
    "report_html",
    "write_report",
]
