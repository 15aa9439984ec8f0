"""Waldo's web page and static reports: run list, live run page, diffs.

``waldo serve`` runs :func:`make_server` over a project's journal; ``waldo report``
writes :func:`report_html` to a file, and :func:`write_site` a static site of the
latest runs. All draw the same run page.
"""

from __future__ import annotations

from waldo.web._layout import Layout, layout
from waldo.web._report import report_html, write_report
from waldo.web._server import WaldoServer, WebApp, is_loopback, make_server, new_token
from waldo.web._site import SiteOptions, site_options, write_site

__all__ = [
    "Layout",
    "SiteOptions",
    "WaldoServer",
    "WebApp",
    "is_loopback",
    "layout",
    "make_server",
    "new_token",
    "report_html",
    "site_options",
    "write_report",
    "write_site",
]
