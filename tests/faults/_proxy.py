"""A local TCP proxy to PostgreSQL that can refuse, cut and freeze connections.

``pass``: bytes flow both ways. ``refuse``: new connections are closed at once (as a
server that is down). ``cut``: every open connection is closed, then it refuses.
``freeze``: connections are accepted and what either side sends is read and held,
never delivered (a hung server, a dropped VPN: TCP open, no reply). Going back to
``pass`` delivers what was held.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import sqlalchemy as sa


class FaultProxy:
    """Listens on 127.0.0.1 (``port``) and forwards to ``upstream``."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._flowing = threading.Event()
        self._flowing.set()
        self._refusing = False
        self._closed = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, name="fault-proxy", daemon=True).start()

    def url_for(self, url: str) -> str:
        """``url`` (a database on the upstream server) reached through this proxy."""
        via = sa.make_url(url).set(host="127.0.0.1", port=self.port)
        return via.render_as_string(hide_password=False)

    # -- faults ---------------------------------------------------------------------
    def freeze(self) -> None:
        self._flowing.clear()

    def refuse(self) -> None:
        self._refusing = True

    def cut(self) -> None:
        self._refusing = True
        self._close_all()

    def heal(self) -> None:
        self._refusing = False
        self._flowing.set()

    def close(self) -> None:
        self._closed = True
        self._flowing.set()
        with suppress(OSError):
            self._listener.close()
        self._close_all()

    # -- plumbing -------------------------------------------------------------------
    def _close_all(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with suppress(OSError):
                sock.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._refusing:
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, server]
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                self._flowing.wait()  # frozen: hold what was read
                if not data or self._closed:
                    break
                target.sendall(data)
        except OSError:
            pass
        with suppress(OSError):
            target.shutdown(socket.SHUT_WR)


@contextmanager
def fault_proxy(url: str) -> Iterator[FaultProxy]:
    """A proxy in front of the server of ``url``, closed when the block ends."""
    parsed = sa.make_url(url)
    proxy = FaultProxy((parsed.host or "127.0.0.1", parsed.port or 5432))
    try:
        yield proxy
    finally:
        proxy.close()
