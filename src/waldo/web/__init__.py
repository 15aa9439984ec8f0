"""Waldo's web page and static reports: run list, live run page, diffs, status.

``waldo serve`` runs :func:`make_server` over a project's journal; ``waldo report``
writes :func:`report_html` to a file, and :func:`write_site` a static site of the
latest runs. All draw the same pages, with the front end built from ``frontend/`` into
``waldo/web/assets``.
"""

from __future__ import annotations

from waldo.web._report import report_html, write_report
from waldo.web._server import (
    WaldoServer,
    WebApp,
    check_token,
    is_loopback,
    make_server,
    new_token,
)
from waldo.web._site import SiteOptions, site_options, write_site
from waldo.web._status import NO_PROJECT, StatusReport, StatusSource

__all__ = [
    "NO_PROJECT",
    "SiteOptions",
    "StatusReport",
    "StatusSource",
    "WaldoServer",
    "WebApp",
    "check_token",
    "is_loopback",
    "make_server",
    "new_token",
    "report_html",
    "site_options",
    "write_report",
    "write_site",
]
