"""The HTML around Waldo's pages: one document that carries its data and the app.

Every page is the same small document: the page's data as JSON and the built front end
(``assets/waldo.js`` and ``assets/waldo.css``, made from ``frontend/`` by ``npm run
build``) inlined, so a page saved to disk (``waldo report``) needs nothing else: no
server, no network. The script draws the page from the data.
"""

from __future__ import annotations

import json
from functools import cache
from html import escape
from importlib import resources
from typing import Any
from urllib.parse import quote

from waldo._version import __version__

#: A magnifying glass over a three-node graph, drawn in 32 x 32 units.
FAVICON_SVG = (
    "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'>"
    "<rect width='32' height='32' rx='7' fill='#1f5f8b'/>"
    "<path d='M8 9h7M8 9v13h5M15 9v6' stroke='#cfe8ff' stroke-width='2' fill='none'/>"
    "<circle cx='8' cy='9' r='3' fill='#fff'/><circle cx='15' cy='9' r='3' fill='#fff'/>"
    "<circle cx='20' cy='20' r='5' stroke='#ffd166' stroke-width='2.5' fill='none'/>"
    "<path d='M24 24l4 4' stroke='#ffd166' stroke-width='3' stroke-linecap='round'/></svg>"
)
FAVICON_HREF = "data:image/svg+xml," + quote(FAVICON_SVG)


@cache
def asset(name: str) -> str:
    """A built file of ``waldo/web/assets`` (the app's script and stylesheet)."""
    text = (resources.files("waldo.web") / "assets" / name).read_text(encoding="utf-8")
    # Inside <script>/<style> only this sequence ends the element; in JavaScript and CSS
    # "<\/" means the same as "</".
    return text.replace("</script", "<\\/script").replace("</style", "<\\/style")


def script_json(data: Any) -> str:
    """JSON safe to put inside ``<script>``: no ``</script>`` or ``<!--`` can end it."""
    text = json.dumps(data, default=str, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _head(title: str) -> str:
    return (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<meta name='color-scheme' content='light dark'>"
        f"<title>{escape(title)} · Waldo</title>"
        f"<link rel='icon' type='image/svg+xml' href='{FAVICON_HREF}'>"
        f"<style>{asset('waldo.css')}</style></head>"
    )


def page(title: str, data: dict[str, Any], *, static: bool = False) -> str:
    """A whole page: ``data`` (with ``data["page"]`` naming the view) drawn by the app.

    ``static``: a snapshot opened from a file, without links to the server's pages.
    """
    payload = {**data, "static": static, "version": __version__}
    return (
        _head(title) + "<body><div id='app'><noscript>Waldo's pages need JavaScript."
        "</noscript></div>"
        f"<script id='waldo-data' type='application/json'>{script_json(payload)}</script>"
        f"<script>{asset('waldo.js')}</script></body></html>\n"
    )


def plain_page(title: str, body: str) -> str:
    """A page of server-made HTML with the app's style and no script (the static site's
    index: links between files, which the app's pages do not make)."""
    return f"{_head(title)}<body><main class='plain-page'>{body}</main></body></html>\n"


def badge(status: str) -> str:
    """A run status as the app's stylesheet draws it."""
    return f"<span class='badge s-{escape(status)}'>{escape(status)}</span>"


def error_page(status: int, message: str) -> str:
    """A plain page for an error (no script: it must show even if the app cannot)."""
    return (
        _head(str(status)) + "<body><main class='error-page'>"
        f"<h1>{status}</h1><p>{escape(message)}</p><p><a href='/'>All runs</a></p>"
        "</main></body></html>\n"
    )
