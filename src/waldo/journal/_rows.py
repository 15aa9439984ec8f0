"""How journal facts become row values: ids, error fields, JSON maps.

Shared by the recorder (which builds rows as things happen) and the node-trail
expansion (which builds the same rows later, possibly in the writer's helper process),
so both write identical rows.
"""

from __future__ import annotations

import functools
import hashlib
import json
import traceback as tb
from collections.abc import Mapping
from typing import Any

# The writer's helper process imports this module without the packages' __init__
# (waldo.store._writer_process): import from modules, not from packages.
from waldo.fingerprint._content import short_id
from waldo.journal._jsonsafe import json_safe
from waldo.store._batch_sql import json_text

TRACEBACK_LIMIT = 20_000


def node_run_id(run_id: str, node_name: str) -> str:
    """A stable id for a node's run, the same in every process that records it.

    32 hex digits: 8 from the run, 24 from the run and the node. A run's node rows
    then share a key prefix, so their primary-key entries go in next to each other
    instead of one at a random place of the whole index each: on a journal of a
    hundred 1,000-node runs that is about a fifth less work per run for SQLite."""
    node = hashlib.blake2b(f"{run_id}\0{node_name}".encode(), digest_size=12).hexdigest()
    return _run_prefix(run_id) + node


@functools.lru_cache(maxsize=64)
def _run_prefix(run_id: str) -> str:
    return hashlib.blake2b(run_id.encode(), digest_size=4).hexdigest()


def describe_error(error: BaseException | None) -> dict[str, Any]:
    if error is None:
        return {}
    text = "".join(tb.format_exception(type(error), error, error.__traceback__))
    return {
        "error_type": type(error).__name__,
        "error_message": str(error)[:TRACEBACK_LIMIT],
        "traceback": text[-TRACEBACK_LIMIT:],
    }


_TARGET_KINDS = ("node", "dataset", "pipeline", "catalog", "context")
_MAX_TARGET_IDS = 65536
# "kind:name" prefix per event type, and short id per "kind:name". Plain dicts of
# strings, not an lru_cache: an lru_cache entry is an object the garbage collector
# tracks, and thousands of them outliving a run add to what full collections walk.
_target_prefixes: dict[str, str] = {}
_target_ids: dict[str, dict[str, str]] = {}


def target_id(event_type: str, target_name: str) -> str:
    """The seed's 8-character target id, for the kind of target a hook is about.

    Cached per kind, so ``before_node_run`` and ``after_node_run`` of a node (or the
    save and the load of a dataset) hash its name once.
    """
    kind = _target_prefixes.get(event_type)
    if kind is None:
        kind = next((k for k in _TARGET_KINDS if k in event_type), event_type)
        _target_prefixes[event_type] = kind
    ids = _target_ids.get(kind)
    if ids is None:
        ids = _target_ids.setdefault(kind, {})
    found = ids.get(target_name)
    if found is None:
        if len(ids) >= _MAX_TARGET_IDS:
            ids.clear()
        found = ids[target_name] = short_id(f"{kind}:{target_name}")
    return found


_encode_json = json.JSONEncoder(separators=(",", ":"), default=str).encode


def json_map(values: Mapping[str, Any] | None) -> str:
    """A node row's mapping column as the JSON text the store would write anyway.

    Node rows wait in the writer's queue for up to one writer interval; a row holding
    only strings and numbers is a dict the garbage collector does not track, while a
    row holding nested dicts is tracked and, living that long, promoted to the oldest
    generation, which brings the next full collection (tens of ms) closer.
    """
    if not values:
        return "{}"
    return _encode_json(values if type(values) is dict else dict(values))


def stats_text(stats: Mapping[str, Any] | None) -> str | None:
    """A dataset's statistics as the JSON text of its ``dataset_versions`` row."""
    return json_text(json_safe(dict(stats), "dataset statistic")) if stats else None
