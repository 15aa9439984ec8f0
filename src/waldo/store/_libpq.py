"""A minimal PostgreSQL client on libpq (through ctypes) for the writer's helper process.

The helper starts with every recorded run, on the CPU the pipeline shares: importing
psycopg costs it about 150 ms of CPU (its type adapters, error classes, asyncio,
importlib.metadata), five times the rest of its start-up. What the helper sends is a
few statements with text parameters and ``COPY ... FROM STDIN`` in text format, which
libpq itself does: loading the library and connecting take a few milliseconds.

:class:`Connection` offers the subset of psycopg's connection that the batch SQL
(:mod:`waldo.store._batch_sql`) and the schema check (:mod:`waldo.store._driver`) use:
``cursor()`` with ``execute(sql, params)`` (``%s`` placeholders, values sent as text),
``fetchone()`` and ``copy(sql)`` whose ``write(bytes)`` sends COPY data; ``commit``,
``rollback`` and ``close``. As in psycopg a transaction starts with the first statement.
Its errors are named like the DB-API's (``OperationalError`` for a connection that
failed or was lost, ``DatabaseError`` for a statement the server refused), which is
how :func:`waldo.store._driver.is_unreachable` tells them apart.

The library is the one psycopg's binary wheel bundles, else the system's
(``libpq.so.5``); :func:`load` returns None when neither loads, and the helper then
uses psycopg.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import importlib.util
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

_CONNECTION_OK = 0
_COMMAND_OK, _TUPLES_OK, _COPY_IN = 1, 2, 4
_TRANS_IDLE = 0
_DIAG_SQLSTATE = ord("C")
_SYSTEM_NAMES = ("libpq.so.5", "libpq.so", "libpq.5.dylib", "libpq.dylib", "libpq.dll")
_PTR = ctypes.c_void_p
_STRINGS = ctypes.POINTER(ctypes.c_char_p)
_SIGNATURES: dict[str, tuple[Any, list[Any]]] = {
    "PQconnectdbParams": (_PTR, [_STRINGS, _STRINGS, ctypes.c_int]),
    "PQstatus": (ctypes.c_int, [_PTR]),
    "PQerrorMessage": (ctypes.c_char_p, [_PTR]),
    "PQtransactionStatus": (ctypes.c_int, [_PTR]),
    "PQexec": (_PTR, [_PTR, ctypes.c_char_p]),
    "PQexecParams": (  # conn, command, nParams, types, values, lengths, formats, format
        _PTR,
        [_PTR, ctypes.c_char_p, ctypes.c_int, _PTR, _STRINGS, _PTR, _PTR, ctypes.c_int],
    ),
    "PQresultStatus": (ctypes.c_int, [_PTR]),
    "PQresultErrorMessage": (ctypes.c_char_p, [_PTR]),
    "PQresultErrorField": (ctypes.c_char_p, [_PTR, ctypes.c_int]),
    "PQntuples": (ctypes.c_int, [_PTR]),
    "PQnfields": (ctypes.c_int, [_PTR]),
    "PQgetvalue": (ctypes.c_char_p, [_PTR, ctypes.c_int, ctypes.c_int]),
    "PQgetisnull": (ctypes.c_int, [_PTR, ctypes.c_int, ctypes.c_int]),
    "PQclear": (None, [_PTR]),
    "PQputCopyData": (ctypes.c_int, [_PTR, ctypes.c_char_p, ctypes.c_int]),
    "PQputCopyEnd": (ctypes.c_int, [_PTR, ctypes.c_char_p]),
    "PQgetResult": (_PTR, [_PTR]),
    "PQfinish": (None, [_PTR]),
}


class Error(Exception):
    """Anything libpq or the server reported."""


class DatabaseError(Error):
    """A statement the server refused (its SQLSTATE in ``sqlstate``)."""

    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


class OperationalError(DatabaseError):
    """The connection could not be made, or was lost."""


def _library_files() -> Iterator[str]:
    """psycopg-binary's own libpq first (it is what psycopg would use), then the
    system's. ``find_spec`` locates the wheel without importing it."""
    try:
        spec = importlib.util.find_spec("psycopg_binary")
    except (ImportError, ValueError):
        spec = None
    folders = (spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        package = Path(folder)
        for libs in (package.parent / "psycopg_binary.libs", package / ".dylibs"):
            for pattern in ("libpq*.so*", "libpq*.dylib", "libpq*.dll"):
                yield from (str(path) for path in sorted(libs.glob(pattern)))
    yield from _SYSTEM_NAMES


@functools.cache
def load() -> ctypes.CDLL | None:
    """libpq with the functions this module calls declared, or None if none loads."""
    for name in _library_files():
        try:
            library = ctypes.CDLL(name)
        except OSError:
            continue
        try:
            for function, (restype, argtypes) in _SIGNATURES.items():
                declared = getattr(library, function)
                declared.restype = restype
                declared.argtypes = argtypes
        except AttributeError:  # not libpq, or a very old one
            continue
        return library
    return None


def _text(value: Any) -> bytes | None:
    """A parameter as PostgreSQL's text input (the server infers its type)."""
    if value is None:
        return None
    if value is True or value is False:
        return b"t" if value else b"f"
    if isinstance(value, float):
        return repr(value).encode()
    return str(value).encode()


@functools.lru_cache(maxsize=256)
def _numbered(sql: str) -> bytes:
    """psycopg's ``%s`` placeholders as libpq's ``$1, $2, ...``."""
    parts = sql.split("%s")
    numbered = [parts[0]]
    for number, part in enumerate(parts[1:], start=1):
        numbered.append(f"${number}{part}")
    return "".join(numbered).encode()


class Connection:
    """One libpq connection; see the module docstring for what it offers."""

    def __init__(self, params: dict[str, Any]) -> None:
        library = load()
        if library is None:
            raise OperationalError("libpq could not be loaded")
        self._pq = library
        settings = {**{k: str(v) for k, v in params.items()}, "client_encoding": "UTF8"}
        keywords = (ctypes.c_char_p * (len(settings) + 1))(*[k.encode() for k in settings])
        values = (ctypes.c_char_p * (len(settings) + 1))(*[v.encode() for v in settings.values()])
        self._conn: int | None = library.PQconnectdbParams(keywords, values, 0)
        if not self._conn:
            raise OperationalError("libpq could not allocate a connection")
        if library.PQstatus(self._conn) != _CONNECTION_OK:
            message = self._message()
            self.close()
            raise OperationalError(message)
        # CREATE ... IF NOT EXISTS says NOTICE each time; libpq would print it on stderr.
        self._run(b"SET client_min_messages TO warning")

    def _message(self) -> str:
        raw = self._pq.PQerrorMessage(self._conn) if self._conn else None
        return (raw or b"connection closed").decode("utf-8", "replace").strip()

    def _check(self, result: int | None, expected: tuple[int, ...]) -> int:
        """The result if its status is one of ``expected``; else it is cleared and the
        server's error raised, as an OperationalError once the connection is gone."""
        pq = self._pq
        if result and pq.PQresultStatus(result) in expected:
            return result
        if result:
            message = (pq.PQresultErrorMessage(result) or b"").decode("utf-8", "replace")
            sqlstate = pq.PQresultErrorField(result, _DIAG_SQLSTATE)
            pq.PQclear(result)
        else:
            message, sqlstate = "", None
        message = message.strip() or self._message()
        if self._conn is None or pq.PQstatus(self._conn) != _CONNECTION_OK:
            raise OperationalError(message)
        raise DatabaseError(message, sqlstate.decode() if sqlstate else None)

    def _run(self, sql: bytes) -> None:
        self._pq.PQclear(self._check(self._pq.PQexec(self._conn, sql), (_COMMAND_OK,)))

    def _begin_if_idle(self) -> None:
        if self._conn is None:
            raise OperationalError("the connection is closed")
        if self._pq.PQtransactionStatus(self._conn) == _TRANS_IDLE:
            self._run(b"BEGIN")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[str | None, ...]]:
        """Run one statement (in the open transaction); its rows as text."""
        self._begin_if_idle()
        pq = self._pq
        values = (ctypes.c_char_p * max(1, len(params)))(*[_text(v) for v in params])
        result = self._check(
            pq.PQexecParams(self._conn, _numbered(sql), len(params), None, values, None, None, 0),
            (_COMMAND_OK, _TUPLES_OK),
        )
        try:
            width = pq.PQnfields(result)
            return [
                tuple(
                    None
                    if pq.PQgetisnull(result, row, column)
                    else pq.PQgetvalue(result, row, column).decode()
                    for column in range(width)
                )
                for row in range(pq.PQntuples(result))
            ]
        finally:
            pq.PQclear(result)

    def copy_in(self, sql: str, data: bytes) -> None:
        """``COPY ... FROM STDIN`` with ``data`` in the statement's format."""
        self._begin_if_idle()
        pq = self._pq
        pq.PQclear(self._check(pq.PQexec(self._conn, sql.encode()), (_COPY_IN,)))
        sent = pq.PQputCopyData(self._conn, data, len(data)) if data else 1
        ended = pq.PQputCopyEnd(self._conn, None if sent == 1 else b"sending failed")
        if sent != 1 or ended != 1:
            self._drain()
            raise OperationalError(self._message())
        self._drain(check=True)

    def _drain(self, check: bool = False) -> None:
        """Read the results left after a COPY; with ``check``, raise the first error."""
        pq = self._pq
        error: Error | None = None
        while result := pq.PQgetResult(self._conn):
            if check and error is None:
                try:
                    result = self._check(result, (_COMMAND_OK,))
                except Error as exc:
                    error = exc
                    continue
            pq.PQclear(result)
        if error is not None:
            raise error

    def cursor(self) -> Cursor:
        return Cursor(self)

    def commit(self) -> None:
        self._end(b"COMMIT")

    def rollback(self) -> None:
        self._end(b"ROLLBACK")

    def _end(self, statement: bytes) -> None:
        if self._conn is None:
            raise OperationalError("the connection is closed")
        if self._pq.PQtransactionStatus(self._conn) != _TRANS_IDLE:
            self._run(statement)

    def close(self) -> None:
        if self._conn:
            self._pq.PQfinish(self._conn)
        self._conn = None


class Cursor:
    """psycopg's cursor, as far as the batch SQL uses it."""

    copy_format = "text"  # COPY data must be text (psycopg's cursors also encode binary)

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._rows: list[tuple[str | None, ...]] = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._rows = self._connection.execute(sql, params)

    def fetchone(self) -> tuple[str | None, ...] | None:
        return self._rows.pop(0) if self._rows else None

    @contextlib.contextmanager
    def copy(self, sql: str) -> Iterator[_Copy]:
        """Collects what is written, then sends it as one COPY when the block ends."""
        copy = _Copy()
        yield copy
        self._connection.copy_in(sql, b"".join(copy.chunks))

    def close(self) -> None:
        self._rows = []


class _Copy:
    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.chunks.append(data)
