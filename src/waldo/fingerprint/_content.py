"""Canonical JSON and the digests built on it.

Two snapshots with the same content must get the same digest whatever their key order,
and two different contents must never share one: the full SHA-256 is the identity,
and the 8-character prefix is only the seed's short display id.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

SHORT_ID_LENGTH = 8


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace; objects it cannot encode become repr()."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=repr)


def content_digest(value: Any) -> str:
    """Full SHA-256 (64 hex characters) of a value's canonical JSON."""
    return text_digest(canonical_json(value))


def text_digest(text: str) -> str:
    """Full SHA-256 of a canonical JSON text already built (:func:`canonical_json`)."""
    return hashlib.sha256(text.encode()).hexdigest()


def named_content_json(name: str, content_json: str) -> str:
    """``canonical_json({"name": name, "content": content})`` from the content's
    canonical text, without encoding the content a second time."""
    return f'{{"content":{content_json},"name":{canonical_json(name)}}}'


def short_id(name: str) -> str:
    """The seed's 8-character target id: a prefix of SHA-256 of the target's name.

    Not cached here (hashing a name takes about a microsecond): callers on a hot path
    keep their own plain-dict cache, whose entries the garbage collector never visits.
    """
    return hashlib.sha256(name.encode()).hexdigest()[:SHORT_ID_LENGTH]
