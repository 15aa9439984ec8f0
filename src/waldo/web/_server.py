"""``waldo serve``: a small read-only web server over one journal.

The standard library's threading HTTP server is enough for a page a few people look at:
no framework to install, nothing fetched from the internet. Only GET and HEAD are
answered. Bound to a loopback address the pages are open to this machine, and only
under a loopback host name (so a web page elsewhere cannot read them through DNS
rebinding); bound anywhere else every request must carry the token (``?token=`` once,
then a cookie, or an ``Authorization: Bearer`` header), or gets 401.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import secrets
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from waldo._errors import InvalidInput, RunNotFound, WaldoError
from waldo._format import parse_moment
from waldo.journal import RUN_STATUSES, History, RunFilter
from waldo.web import _html
from waldo.web._compare import MAX_COMPARED, compare_payload, diff_payload
from waldo.web._payload import (
    HISTORY_RUNS,
    dataset_series,
    history_until,
    last_seen_alive,
    live_state,
    node_series,
    run_payload,
)
from waldo.web._runs import runs_payload
from waldo.web._status import StatusSource, status_payload

log = logging.getLogger("waldo")
COOKIE = "waldo_token"
#: The highest page number asked for (a million pages of runs); more is a mistake.
MAX_PAGE = 1_000_000
#: The shortest token ``waldo serve`` accepts: a short one is guessed.
MIN_TOKEN_CHARS = 16


class BadRequest(InvalidInput):
    """A query parameter the page cannot use (a malformed date, a page number)."""


def check_token(token: str | None) -> None:
    """Refuse a token that protects nothing: empty, blank or short (a server off
    loopback answers to anyone who has it)."""
    if token is not None and len(token.strip()) < MIN_TOKEN_CHARS:
        raise InvalidInput(
            f"The token must have at least {MIN_TOKEN_CHARS} characters; leave --token "
            "out and Waldo makes one."
        )


def is_loopback(host: str) -> bool:
    """Whether a bind address only accepts connections from this machine."""
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    return secrets.token_urlsafe(24)


def _param(text: str) -> tuple[str, str] | None:
    """``key=value`` (a dotted key for nested parameters) from the run list's filter."""
    if not text.strip():
        return None
    key, equals, value = text.partition("=")
    if not equals or not key.strip():
        raise BadRequest(f"param={text!r}: write it as name=value (lr=0.1, model.depth=3).")
    return key.strip(), value.strip()


def filters_from(query: dict[str, str]) -> RunFilter:
    """The run list's filters from a query string (``until`` includes that whole day)."""
    status = query.get("status") or None
    if status is not None and status not in RUN_STATUSES:
        raise BadRequest(f"status={status!r}: use one of {', '.join(RUN_STATUSES)}.")
    return RunFilter(
        status=status,
        pipeline=query.get("pipeline") or None,
        since=parse_moment(query.get("since"), "since"),
        until=parse_moment(query.get("until"), "until", whole_day=True),
        kind=query.get("kind") or None,
        tag=query.get("tag") or None,
        param=_param(query.get("param", "")),
    )


def page_number(query: dict[str, str]) -> int:
    """``page=`` of a listing: a whole number from 1 to :data:`MAX_PAGE`."""
    text = query.get("page") or "1"
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_PAGE:
        raise BadRequest(f"page={text!r}: use a page number from 1 to {MAX_PAGE:,}.")
    return int(text)


def _plain(values: list[str]) -> bool:
    """Whether request text holds no control characters (a NUL no database stores)."""
    return all(ch >= " " or ch == "\t" for value in values for ch in value)


class WebApp:
    """The routes: the run list, a run page and its live state, a diff, a comparison of
    parameters, the status page, and their JSON twins.

    ``status`` computes what would re-run (given when serving inside a Kedro project);
    ``repo_url`` is the repository's web page, for links to commits (found from the
    project's git remote when not given).
    """

    def __init__(
        self,
        history: History,
        status: StatusSource | None = None,
        repo_url: str | None = None,
    ) -> None:
        self.history = history
        self.status_source = status
        self.repo_url = repo_url
        self._status_lock = threading.Lock()

    def route(self, path: str, query: dict[str, str]) -> tuple[int, str, bytes]:
        """Answer one GET: (status, content type, body). Errors become pages."""
        try:
            if not _plain([unquote(path), *query, *query.values()]):
                raise BadRequest("The address holds control characters.")
            return self._route(path, query)
        except RunNotFound as exc:
            return self._error(path, HTTPStatus.NOT_FOUND, str(exc))
        except InvalidInput as exc:
            return self._error(path, HTTPStatus.BAD_REQUEST, str(exc))
        except WaldoError as exc:
            return self._error(path, HTTPStatus.SERVICE_UNAVAILABLE, str(exc))
        except Exception:  # a bug: say so on the page, never drop the connection
            log.exception("waldo serve: %s failed", path)
            return self._error(
                path, HTTPStatus.INTERNAL_SERVER_ERROR, "Waldo failed to answer this page."
            )

    def _error(self, path: str, status: int, message: str) -> tuple[int, str, bytes]:
        if path.startswith("/api/"):
            return status, "application/json", json.dumps({"error": message}).encode()
        return status, "text/html; charset=utf-8", _html.error_page(status, message).encode()

    def _route(self, path: str, query: dict[str, str]) -> tuple[int, str, bytes]:
        parts = [unquote(p) for p in path.strip("/").split("/")] if path.strip("/") else []
        handlers: dict[tuple[str, ...], Callable[..., tuple[int, str, bytes]]] = {
            (): self.runs,
            ("diff",): self.diff,
            ("compare",): self.compare,
            ("status",): self.status,
            ("health",): self.health,
            ("favicon.ico",): self.favicon,
            ("api", "runs"): self.api_runs,
            ("api", "diff"): self.api_diff,
            ("api", "status"): self.api_status,
            ("api", "history"): self.api_history,
        }
        handler = handlers.get(tuple(parts))
        if handler is not None:
            return handler(query)
        if len(parts) == 2 and parts[0] == "runs":
            return self.run(parts[1])
        if len(parts) == 3 and parts[:2] == ["api", "runs"]:
            return self.api_run(parts[2])
        if len(parts) == 4 and parts[:2] == ["api", "runs"] and parts[3] == "live":
            return self.api_live(parts[2])
        return self._error(path, HTTPStatus.NOT_FOUND, f"No page at {path}.")

    @staticmethod
    def _page(title: str, data: dict[str, Any]) -> tuple[int, str, bytes]:
        return HTTPStatus.OK, "text/html; charset=utf-8", _html.page(title, data).encode()

    @staticmethod
    def _json(data: Any) -> tuple[int, str, bytes]:
        return HTTPStatus.OK, "application/json", json.dumps(data, default=str).encode()

    # -- pages ------------------------------------------------------------------------
    def health(self, query: dict[str, str]) -> tuple[int, str, bytes]:
        return HTTPStatus.OK, "text/plain; charset=utf-8", b"ok\n"

    def favicon(self, query: dict[str, str]) -> tuple[int, str, bytes]:
        return HTTPStatus.OK, "image/svg+xml", _html.FAVICON_SVG.encode()

    def _runs_data(self, query: dict[str, str]) -> dict[str, Any]:
        filters = filters_from(query)
        data = runs_payload(self.history, filters, page_number(query), query.get("until", ""))
        data["poll"] = "/api/runs?" + urlencode({k: v for k, v in query.items() if v})
        return data

    def runs(self, query: dict[str, str]) -> tuple[int, str, bytes]:
        return self._page("Runs", self._runs_data(query))

    def _run_data(self, run_id: str) -> dict[str, Any]:
        detail = self.history.run_detail(run_id)
        data = run_payload(self.history, detail, repo_url=self.repo_url)
        data["poll"] = f"/api/runs/{quote(detail.summary.run_id)}/live"
        return data

    def run(self, run_id: str) -> tuple[int, str, bytes]:
        data = self._run_data(run_id)
        return self._page(f"Run {data['run']['run_id']}", data)

    def _diff_data(self, query: dict[str, str]) -> dict[str, Any]:
        a, b = query.get("a", "").strip(), query.get("b", "").strip()
        if not a or not b:
            raise BadRequest("Give two runs to compare: /diff?a=RUN_A&b=RUN_B.")
        return diff_payload(self.history, self.history.diff(a, b), repo_url=self.repo_url)

    def diff(self, query: dict[str, str]) -> tuple[int, str, bytes]:
        data = self._diff_data(query)
        return self._page(f"Diff {data['a']['run_id']} {data['b']['run_id']}", data)

    def compare(self, query: dict[str, str]) -> tuple[int, str, bytes]:
        wanted = [r.strip() for r in query.get("runs", "").split(",") if r.strip()]
        if not 1 <= len(wanted) <= MAX_COMPARED:
            raise BadRequest(
                f"Give 1 to {MAX_COMPARED} runs to compare: /compare?runs=RUN_A,RUN_B,..."
            )
        run_ids = [self.history.resolve_run_id(r) for r in wanted]
        data = compare_payload(self.history, run_ids, repo_url=self.repo_url)
        return self._page("Parameters", data)

    def _status_data(self, query: dict[str, str]) -> dict[str, Any]:
        with self._status_lock:  # Kedro's project settings are process-wide
            return status_payload(self.status_source, query.get("pipeline") or None)

    def status(self, query: dict[str, str]) -> tuple[int, str, bytes]:
        return self._page("Status", self._status_data(query))

    # -- JSON ---------------------------------------------------------------------------
    def api_runs(self, query: dict[str, str]) -> tuple[int, str, bytes]:
        return self._json(self._runs_data(query))

    def api_run(self, run_id: str) -> tuple[int, str, bytes]:
        return self._json(self._run_data(run_id))

    def api_live(self, run_id: str) -> tuple[int, str, bytes]:
        return self._json(live_state(self.history, self.history.run_detail(run_id)))

    def api_diff(self, query: dict[str, str]) -> tuple[int, str, bytes]:
        return self._json(self._diff_data(query))

    def api_status(self, query: dict[str, str]) -> tuple[int, str, bytes]:
        return self._json(self._status_data(query))

    def api_history(self, query: dict[str, str]) -> tuple[int, str, bytes]:
        """A node's (``node=``) or a dataset's (``dataset=``) last runs up to ``run=``."""
        detail = self.history.run_detail(query.get("run", "").strip() or "latest")
        until = history_until(detail, last_seen_alive(self.history, detail.summary))
        project = detail.project
        if query.get("node"):
            points = self.history.node_history(project, query["node"], HISTORY_RUNS, until)
            return self._json(node_series(points))
        if query.get("dataset"):
            name = query["dataset"]
            found = self.history.dataset_history(project, [name], HISTORY_RUNS, until)
            return self._json(dataset_series(found[name]))
        raise BadRequest("Ask for node=NAME or dataset=NAME (and run=RUN).")


class _Handler(BaseHTTPRequestHandler):
    server: WaldoServer
    server_version = "waldo"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("waldo serve: " + format, *args)

    def _authorised(self, query: dict[str, str]) -> tuple[bool, bool]:
        """(allowed, set the cookie): the token from the query, a cookie or a header."""
        token = self.server.token
        if token is None:
            return True, False
        offered = query.get("token")
        if offered is not None:
            ok = hmac.compare_digest(offered.encode(), token.encode())
            return ok, ok
        header = self.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            return hmac.compare_digest(header[7:].encode(), token.encode()), False
        cookie = SimpleCookie(self.headers.get("Cookie", ""))
        if COOKIE in cookie:
            return hmac.compare_digest(cookie[COOKIE].value.encode(), token.encode()), False
        return False, False

    def _send(self, status: int, content_type: str, body: bytes, extra: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _loopback_host(self) -> bool:
        """Whether the Host header names this machine (checked when there is no token)."""
        host = self.headers.get("Host", "")
        name = host if host.endswith("]") else host.rsplit(":", 1)[0]
        return is_loopback(name.strip("[]"))

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        if self.server.token is None and not self._loopback_host():
            body = b"403: this Waldo server answers only to 127.0.0.1 or localhost.\n"
            self._send(HTTPStatus.FORBIDDEN, "text/plain; charset=utf-8", body, {})
            return
        allowed, set_cookie = self._authorised(query)
        if not allowed:
            body = (
                b"401: this Waldo server needs its token (?token=... or Authorization: Bearer).\n"
            )
            self._send(HTTPStatus.UNAUTHORIZED, "text/plain; charset=utf-8", body, {})
            return
        extra = {}
        if set_cookie and self.server.token is not None:
            extra["Set-Cookie"] = f"{COOKIE}={self.server.token}; Path=/; HttpOnly; SameSite=Strict"
        query.pop("token", None)
        status, content_type, body = self.server.app.route(url.path, query)
        self._send(status, content_type, body, extra)

    def do_HEAD(self) -> None:
        self.do_GET()

    def _refuse(self) -> None:
        self._send(
            HTTPStatus.METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            b"405: the Waldo page is read-only.\n",
            {"Allow": "GET, HEAD"},
        )

    do_POST = do_PUT = do_DELETE = do_PATCH = _refuse


class WaldoServer(ThreadingHTTPServer):
    """The HTTP server, holding the app and the token (None: no token needed)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], app: WebApp, token: str | None) -> None:
        self.app = app
        self.token = token
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        text = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{text}]" if ":" in text else text
        return f"http://{shown}:{port}/"

    def start_in_thread(self) -> threading.Thread:
        """Serve in a daemon thread (tests and benchmarks); ``shutdown()`` stops it."""
        thread = threading.Thread(target=self.serve_forever, name="waldo-serve", daemon=True)
        thread.start()
        return thread


def make_server(
    history: History,
    host: str = "127.0.0.1",
    port: int = 8765,
    token: str | None = None,
    *,
    status: StatusSource | None = None,
    repo_url: str | None = None,
) -> WaldoServer:
    """A server for ``history``; off loopback a token is required (one is made if none
    is given). Port 0 picks a free port (see ``server.url``). ``status`` and
    ``repo_url``: see :class:`WebApp`."""
    check_token(token)
    if not 0 <= port <= 65535:
        raise InvalidInput(f"Port {port} does not exist: use 1 to 65535 (0: any free port).")
    if token is None and not is_loopback(host):
        token = new_token()
    app = WebApp(history, status=status, repo_url=repo_url)
    try:
        return WaldoServer((host, port), app, token)
    except OSError as exc:
        raise WaldoError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}.") from exc
