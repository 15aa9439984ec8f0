"""The Dolt worker: every Dolt operation, in an interpreter whose first import is doltlite.

``doltlite`` must be imported before ``sqlite3`` is first imported, or it re-executes
the whole interpreter (which would restart a ``kedro run`` halfway). A Kedro run or
the ``waldo`` command line has imported ``sqlite3`` long before Dolt is needed, so
Waldo runs this file as a script (``python _dolt_worker.py``) whose first import is
``doltlite``. It deliberately imports nothing from ``waldo``: importing the package
could import ``sqlite3`` first; nor pandas, whose import would cost more than the
work it serves.

Protocol: requests and replies are pickled dicts, one after the other on stdin and
stdout (a pickle knows where it ends). The worker answers until its stdin closes, so
one worker serves every Dolt operation of its parent process. A reply is
``{"ok": True, "result": ...}`` or ``{"ok": False, "error": "..."}``. Frames travel as
plain Python values (a save sends its columns as lists; a load returns rows as tuples).
Branch names, commit messages and values are always bound parameters; table and column
names are quoted identifiers.
"""

# ruff: noqa: I001  (doltlite must stay the first import, before sqlite3)
from __future__ import annotations

import doltlite  # noqa: F401  # first import: makes sqlite3 talk to libdoltlite

import os
import pickle
import signal
import sqlite3
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any


class DoltRequestError(Exception):
    """A request the database refused, in the database's words."""


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def connect(database: str, branch: str | None) -> sqlite3.Connection:
    conn = sqlite3.connect(database, isolation_level=None)
    if branch:
        checkout(conn, branch, create=True)
    return conn


def current_branch(conn: sqlite3.Connection) -> str:
    return str(conn.execute("SELECT active_branch()").fetchone()[0])


def branches(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    cur = conn.execute("SELECT * FROM dolt_branches")
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def checkout(conn: sqlite3.Connection, branch: str, create: bool) -> None:
    names = {b["name"] for b in branches(conn)}
    if branch in names:
        conn.execute("SELECT dolt_checkout(?)", (branch,))
    elif create:
        conn.execute("SELECT dolt_checkout('-b', ?)", (branch,))
    else:
        raise DoltRequestError(f"no branch {branch!r}; `waldo data branches` lists them")


def table_exists(conn: sqlite3.Connection, table: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?", (table,)
    ).fetchone()
    return row is not None


def columns_of(conn: sqlite3.Connection, table: str) -> list[tuple[str, str, int]]:
    rows = conn.execute(f"PRAGMA table_info({quote(table)})").fetchall()
    return [(r[1], str(r[2]).upper(), int(r[5])) for r in rows]


def save(req: dict[str, Any]) -> dict[str, Any]:
    """Write ``values`` (one list per column) into ``table``; see ``DoltTableDataset``."""
    table, keys, mode = req["table"], list(req["primary_key"]), req.get("if_exists", "replace")
    cols, values = list(req["columns"]), list(req["values"])
    wanted = list(zip(cols, req["types"], strict=True))
    conn = connect(req["database"], req.get("branch"))
    try:
        conn.execute("BEGIN")
        existing = columns_of(conn, table) if table_exists(conn, table) else []
        same = [(c, t) for c, t, _ in existing] == wanted and [
            c for c, _, pk in sorted(existing, key=lambda e: e[2]) if pk
        ] == keys
        if existing and not same:
            conn.execute(f"DROP TABLE {quote(table)}")
        if not existing or not same:
            body = ", ".join(f"{quote(c)} {t}" for c, t in wanted)
            pk = ", ".join(quote(k) for k in keys)
            conn.execute(f"CREATE TABLE {quote(table)} ({body}, PRIMARY KEY ({pk}))")
        elif mode == "replace":
            conn.execute(f"DELETE FROM {quote(table)}")
        marks = ", ".join("?" for _ in cols)
        names = ", ".join(quote(c) for c in cols)
        verb = "INSERT OR REPLACE" if mode == "upsert" else "INSERT"
        conn.executemany(
            f"{verb} INTO {quote(table)} ({names}) VALUES ({marks})", zip(*values, strict=True)
        )
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise
    finally:
        conn.close()
    return {"rows": len(values[0]) if values else 0}


def load(req: dict[str, Any]) -> dict[str, Any]:
    """The whole table as ``columns`` (names) and ``rows`` (tuples), in one query."""
    conn = connect(req["database"], req.get("branch"))
    try:
        if not table_exists(conn, req["table"]):
            raise DoltRequestError(f"no table {req['table']!r} on this branch")
        cur = conn.execute(f"SELECT * FROM {quote(req['table'])}")
        return {"columns": [d[0] for d in cur.description], "rows": cur.fetchall()}
    finally:
        conn.close()


def exists(req: dict[str, Any]) -> bool:
    conn = connect(req["database"], req.get("branch"))
    try:
        return table_exists(conn, req["table"])
    finally:
        conn.close()


def commit(req: dict[str, Any]) -> dict[str, Any]:
    conn = connect(req["database"], req.get("branch"))
    try:
        changed = conn.execute("SELECT table_name, status FROM dolt_status").fetchall()
        if not changed:
            return {"commit": None, "branch": current_branch(conn), "tables": []}
        row = conn.execute("SELECT dolt_commit('-A', '-m', ?)", (req["message"],)).fetchone()
        return {
            "commit": str(row[0]),
            "branch": current_branch(conn),
            "tables": sorted({str(r[0]) for r in changed}),
        }
    finally:
        conn.close()


def log(req: dict[str, Any]) -> list[dict[str, Any]]:
    conn = connect(req["database"], None)
    try:
        if req.get("branch"):
            checkout(conn, req["branch"], create=False)
        cur = conn.execute("SELECT * FROM dolt_log")
        cols = [d[0] for d in cur.description]
        entries = [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
        table = req.get("table")
        if table:
            touched = (
                {
                    str(r[0])
                    for r in conn.execute(
                        f"SELECT DISTINCT to_commit FROM {quote('dolt_diff_' + table)}"
                    ).fetchall()
                }
                if table_exists_anywhere(conn, table)
                else set()
            )
            entries = [e for e in entries if e["commit_hash"] in touched]
        return entries
    finally:
        conn.close()


def table_exists_anywhere(conn: sqlite3.Connection, table: str) -> bool:
    try:
        conn.execute(f"SELECT 1 FROM {quote('dolt_diff_' + table)} LIMIT 1").fetchall()
    except sqlite3.Error:
        return False
    return True


def resolve(conn: sqlite3.Connection, ref: str) -> str:
    """A branch name or a (prefix of a) commit hash -> the full commit hash."""
    for b in branches(conn):
        if b["name"] == ref:
            return str(b["hash"])
    rows = sorted(
        {
            str(r[0])
            for b in branches(conn)
            for r in conn.execute("SELECT commit_hash FROM dolt_log(?)", (b["name"],))
            if str(r[0]).startswith(ref)
        }
    )
    if len(rows) == 1:
        return rows[0]
    if len(rows) > 1:
        raise DoltRequestError(f"{ref!r} matches several commits; give more of the hash")
    raise DoltRequestError(f"no branch or commit {ref!r} in the Dolt database")


@contextmanager
def at_commit(database: str, commit_hash: str) -> Iterator[sqlite3.Connection]:
    """A connection on a scratch branch at ``commit_hash`` (Dolt has no detached HEAD)."""
    scratch = f"waldo-scratch-{uuid.uuid4().hex[:12]}"
    conn = sqlite3.connect(database, isolation_level=None)
    conn.execute("SELECT dolt_branch(?, ?)", (scratch, commit_hash))
    try:
        conn.execute("SELECT dolt_checkout(?)", (scratch,))
        yield conn
    finally:
        conn.execute("SELECT dolt_checkout('main')")
        conn.execute("SELECT dolt_branch('-D', ?)", (scratch,))
        conn.close()


def snapshot(conn: sqlite3.Connection, table: str) -> tuple[list[str], list[str], list[Any]]:
    if not table_exists(conn, table):
        return [], [], []
    info = columns_of(conn, table)
    cols = [c for c, _, _ in info]
    keys = [c for c, _, pk in sorted(info, key=lambda e: e[2]) if pk] or cols
    rows = conn.execute(f"SELECT * FROM {quote(table)}").fetchall()
    return cols, keys, rows


def diff(req: dict[str, Any]) -> dict[str, Any]:
    database, table = req["database"], req["table"]
    conn = sqlite3.connect(database, isolation_level=None)
    try:
        old_hash, new_hash = resolve(conn, req["from"]), resolve(conn, req["to"])
    finally:
        conn.close()
    with at_commit(database, old_hash) as c:
        old_cols, old_keys, old_rows = snapshot(c, table)
    with at_commit(database, new_hash) as c:
        new_cols, new_keys, new_rows = snapshot(c, table)
    keys = new_keys or old_keys

    def keyed(cols: list[str], rows: list[Any]) -> dict[Any, dict[str, Any]]:
        out = {}
        for row in rows:
            record = dict(zip(cols, row, strict=True))
            out[tuple(record.get(k) for k in keys)] = record
        return out

    old, new = keyed(old_cols, old_rows), keyed(new_cols, new_rows)
    added = [new[k] for k in new if k not in old]
    removed = [old[k] for k in old if k not in new]
    modified = []
    for k in new:
        if k in old and new[k] != old[k]:
            changes = {
                c: {"old": old[k].get(c), "new": new[k].get(c)}
                for c in sorted(set(old[k]) | set(new[k]))
                if old[k].get(c) != new[k].get(c)
            }
            modified.append({"key": dict(zip(keys, k, strict=True)), "changes": changes})
    return {
        "table": table,
        "from": old_hash,
        "to": new_hash,
        "primary_key": keys,
        "added": added,
        "removed": removed,
        "modified": modified,
    }


def list_branches(req: dict[str, Any]) -> list[dict[str, Any]]:
    conn = sqlite3.connect(req["database"], isolation_level=None)
    try:
        return [
            {
                "name": b["name"],
                "hash": b["hash"],
                "message": b.get("latest_commit_message"),
                "date": b.get("latest_commit_date"),
            }
            for b in branches(conn)
        ]
    finally:
        conn.close()


def ensure_branch(req: dict[str, Any]) -> dict[str, Any]:
    conn = connect(req["database"], None)
    try:
        existed = req["branch"] in {b["name"] for b in branches(conn)}
        if not existed:
            conn.execute("SELECT dolt_branch(?)", (req["branch"],))
        return {"created": not existed}
    finally:
        conn.close()


OPS = {
    "save": save,
    "load": load,
    "exists": exists,
    "commit": commit,
    "log": log,
    "diff": diff,
    "branches": list_branches,
    "ensure_branch": ensure_branch,
}


def handle(req: dict[str, Any]) -> Any:
    return OPS[req["op"]](req)


def reply(req: dict[str, Any]) -> dict[str, Any]:
    """Run one request; a refusal becomes an error reply, in the database's words."""
    try:
        return {"ok": True, "result": handle(req)}
    except (DoltRequestError, sqlite3.Error) as exc:
        return {"ok": False, "error": str(exc)}
    except Exception as exc:
        return {"ok": False, "error": f"Dolt {req.get('op')} failed: {exc}"}


def send(value: Any, stream: IO[bytes]) -> None:
    """Pickle ``value`` onto ``stream`` without a memo: a table's rows are a million
    small tuples, none seen twice, and memoizing each costs more than writing it."""
    pickler = pickle.Pickler(stream, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.fast = True
    pickler.dump(value)
    stream.flush()


def main() -> None:
    # Ctrl-C reaches the whole process group; the parent decides when this worker stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The replies own file descriptor 1: a stray print (or C library) goes to stderr.
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    requests = sys.stdin.buffer
    while True:
        try:
            req = pickle.load(requests)
        except EOFError:  # the parent closed our input: its process is ending
            return
        send(reply(req), replies)


if __name__ == "__main__":
    main()
