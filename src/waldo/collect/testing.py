"""A test kit for collector plugins: contexts, assertions and a local JSON server.

Use it from a plugin's tests::

    from waldo.collect.testing import ContextBuilder, assert_stream_convert, assert_valid_plugin
    pytest_plugins = ["waldo.collect.testing"]   # for the ``json_server`` fixture

    def test_users(json_server, tmp_path):
        json_server.route("/users", [{"id": "1", "name": "Ada", "email": "a@x"}])
        ctx = ContextBuilder(tmp_path).connection(url=json_server.url).json()

The server is real (``http.server`` on 127.0.0.1, a free port, its own thread), so a
plugin is tested through the same HTTP stack, retries and pagination it uses in
production; no mock of ``requests`` is involved.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from waldo.collect._runner import tool_model_from_row, tool_row
from waldo.collect.context import Context
from waldo.collect.model import Connection, DomainModel, ToolModel, ToolScope
from waldo.collect.plugin import Plugin
from waldo.collect.stream import Stream, Substream

__all__ = [
    "ContextBuilder",
    "JsonServer",
    "Reply",
    "SeenRequest",
    "assert_stream_convert",
    "assert_valid_plugin",
    "json_server",
]


@dataclass
class Reply:
    """One canned HTTP answer."""

    body: Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    #: Seconds to wait before answering (to test timeouts, or to slow a collection).
    delay: float = 0.0


@dataclass
class SeenRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]


Handler = Callable[[SeenRequest], Reply]


class JsonServer:
    """A local HTTP server answering JSON from routes; records every request it sees.

    A route is a path, optionally with a query (``/runs?page=2``: it matches when those
    query arguments are present). Its replies are served in order, the last one
    repeating; or a handler computes each reply.
    """

    def __init__(self) -> None:
        self._routes: dict[str, list[Reply] | Handler] = {}
        self._lock = threading.Lock()
        self.requests: list[SeenRequest] = []
        self.required_headers: dict[str, str] = {}
        server = self

        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server._answer(self)

            def do_POST(self) -> None:
                server._answer(self)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> JsonServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def route(self, path: str, *replies: Any, handler: Handler | None = None) -> None:
        """Serve ``replies`` (Reply objects, or bodies answered with 200) at ``path``."""
        with self._lock:
            if handler is not None:
                self._routes[path] = handler
            else:
                self._routes[path] = [r if isinstance(r, Reply) else Reply(r) for r in replies]

    def require_header(self, name: str, value: str) -> None:
        """Answer 401 to any request without this header value (a token check)."""
        self.required_headers[name.lower()] = value

    def seen(self, path: str) -> list[SeenRequest]:
        return [r for r in self.requests if r.path == path]

    def _match(self, path: str, query: dict[str, str]) -> list[Reply] | Handler | None:
        best: tuple[int, list[Reply] | Handler] | None = None
        for key, target in self._routes.items():
            parts = urlsplit(key)
            if parts.path != path:
                continue
            wanted = dict(parse_qsl(parts.query))
            matches = all(query.get(k) == v for k, v in wanted.items())
            if matches and (best is None or len(wanted) > best[0]):
                best = (len(wanted), target)
        return None if best is None else best[1]

    def _answer(self, http: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(http.path)
        seen = SeenRequest(
            http.command,
            parts.path,
            dict(parse_qsl(parts.query)),
            {k.lower(): v for k, v in http.headers.items()},
        )
        with self._lock:
            self.requests.append(seen)
            target = self._match(parts.path, seen.query)
            if any(seen.headers.get(k) != v for k, v in self.required_headers.items()):
                reply = Reply({"message": "Bad credentials"}, 401)
            elif target is None:
                reply = Reply({"message": "Not Found"}, 404)
            elif callable(target):
                reply = target(seen)
            else:
                reply = target.pop(0) if len(target) > 1 else target[0]
        if reply.delay:
            threading.Event().wait(reply.delay)
        body = b"" if reply.body is None else json.dumps(reply.body).encode()
        try:
            http.send_response(reply.status)
            http.send_header("Content-Type", "application/json")
            http.send_header("Content-Length", str(len(body)))
            for name, value in reply.headers.items():
                http.send_header(name, value.replace("{url}", self.url))
            http.end_headers()
            http.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            return


try:  # the fixture exists when pytest does
    import pytest

    @pytest.fixture
    def json_server() -> Iterator[JsonServer]:
        """A started :class:`JsonServer`, stopped after the test."""
        server = JsonServer().start()
        try:
            yield server
        finally:
            server.stop()

except ImportError:  # pragma: no cover - the kit without pytest
    json_server = None  # type: ignore[assignment]


class ContextBuilder:
    """Builds a collection context: a SQLite store in ``folder`` (or in memory)."""

    def __init__(self, folder: Path | str | None = None, db_url: str | None = None) -> None:
        if db_url is None:
            db_url = (
                f"sqlite:///{Path(folder) / 'waldo.db'}"
                if folder is not None
                else "sqlite+pysqlite:///:memory:"
            )
        self.data: dict[str, Any] = {"db_url": db_url, "connection": {}}

    def connection(self, **fields: Any) -> ContextBuilder:
        self.data["connection"].update(fields)
        return self

    def scope(self, id: str, name: str = "", **fields: Any) -> ContextBuilder:
        self.data["scope"] = {"id": id, "name": name or id, **fields}
        return self

    def options(self, **options: Any) -> ContextBuilder:
        self.data.setdefault("options", {}).update(options)
        return self

    def full(self) -> ContextBuilder:
        self.data["incremental"] = False
        return self

    def json(self) -> str:
        """The context as the command line takes it."""
        return json.dumps(self.data)

    def build(self, plugin: type[Plugin] | Plugin | None = None) -> Context:
        """The context, its connection and scope typed by ``plugin``'s types."""
        if plugin is None:
            return Context.parse(self.data)
        instance = plugin() if isinstance(plugin, type) else plugin
        return Context.parse(self.data, instance.connection_type, instance.scope_type())

    @property
    def db_url(self) -> str:
        return str(self.data["db_url"])


def assert_stream_convert(
    plugin: type[Plugin] | Plugin,
    stream_name: str,
    raw: dict[str, Any],
    expected: Iterable[DomainModel],
    context: Context | None = None,
) -> None:
    """Extract ``raw`` with the stream, convert it, and compare with ``expected``.

    The tool model makes a round trip through its row on the way, as in a real run, so
    a field the tool table cannot hold shows up here.
    """
    instance = plugin() if isinstance(plugin, type) else plugin
    stream = instance.get_stream(stream_name)
    context = context or ContextBuilder().connection(**_placeholder(instance)).build(instance)
    model = stream.extract(raw)
    assert isinstance(model, stream.tool_model), (
        f"{type(stream).__name__}.extract returned {type(model).__name__}, "
        f"not {stream.tool_model.__name__}"
    )
    model = tool_model_from_row(stream, tool_row(stream, model))
    got = [m.model_dump() for m in stream.run_convert(model, context)]
    want = [m.model_dump() for m in expected]
    assert got == want, f"convert of {stream_name}:\n got  {got}\n want {want}"


def _placeholder(plugin: Plugin) -> dict[str, Any]:
    """Dummy values for the required string fields of a connection."""
    values: dict[str, Any] = {}
    for name, info in plugin.connection_type.model_fields.items():
        if info.is_required():
            values[name] = "http://127.0.0.1:9" if "url" in name else "x"
    return values


def assert_valid_plugin(plugin: type[Plugin] | Plugin) -> None:
    """Check what a plugin must declare; each failure says what to fix."""
    instance = plugin() if isinstance(plugin, type) else plugin
    name = type(instance).__name__
    assert isinstance(instance.connection_type, type) and issubclass(
        instance.connection_type, Connection
    ), f"{name}.connection_type must be a Connection subclass"
    assert issubclass(instance.scope_type(), ToolScope), (
        f"{name}.tool_scope_type must be a ToolScope subclass"
    )
    streams = instance.stream_instances()  # raises on duplicates and misordered parents
    assert streams, f"{name}.streams is empty: a plugin needs at least one stream"
    for stream in streams.values():
        assert isinstance(stream, Stream)
        assert issubclass(stream.tool_model, ToolModel)
        assert list(stream.tool_model.__table__.primary_key.columns), (  # type: ignore[attr-defined]
            f"{stream.tool_model.__name__} has no primary key"
        )
        if isinstance(stream, Substream):
            assert stream.parent_stream(instance.name).name in streams
    json.dumps(instance.plugin_info().model_dump(mode="json"))
