"""Keeping credentials out of the journal.

Catalog snapshots are stored with secrets masked: values under secret-looking keys,
passwords inside URLs, and any string equal to a value from ``credentials.yml``.
Runtime parameters are stored with the value of every secret-looking key masked too,
but with a short fingerprint of it (:func:`mask_params`), so that a diff still sees
that it changed. Which names look secret is one rule, :func:`waldo._masking.looks_secret`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from waldo._errors import Unfingerprintable
from waldo._masking import MASK, looks_secret, mask_text
from waldo.fingerprint import params_fingerprint, text_digest

# Catalog keys that hold a secret besides those :func:`looks_secret` knows: a
# connection (``con``) and a connection string, which carry passwords.
_CATALOG_SECRET = re.compile(r"^(con|connection[_-]?string|signature)$", re.IGNORECASE)
#: How many characters of a masked value's fingerprint are kept.
FINGERPRINT_CHARS = 8


def _leaves(value: Any) -> Iterable[str]:
    if isinstance(value, Mapping):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, str) and len(value) >= 4:
        yield value


def mask_secrets(content: Any, credentials: Mapping[str, Any] | None = None) -> Any:
    """A copy of ``content`` with secrets replaced by ``***``."""
    known = set(_leaves(credentials or {}))

    def mask(value: Any, key: str | None) -> Any:
        if isinstance(value, Mapping):
            return {str(k): mask(v, str(k)) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [mask(v, key) for v in value]
        if key is not None and _catalog_secret(key) and not isinstance(value, bool):
            if key.lower() == "credentials" and isinstance(value, str):
                return value  # a reference to a credentials entry, not a secret
            return MASK if value not in (None, "") else value
        if isinstance(value, str):
            if value in known:
                return MASK
            return mask_text(value)
        return value

    return mask(content, None)


def _catalog_secret(key: str) -> bool:
    return looks_secret(key) or bool(_CATALOG_SECRET.match(key))


def masked_value(value: Any) -> str:
    """``***#`` and the start of the value's fingerprint: hides the value, shows a change."""
    try:
        digest = params_fingerprint(value)
    except Unfingerprintable:
        digest = text_digest(repr(value))
    return f"{MASK}#{digest[:FINGERPRINT_CHARS]}"


def mask_params(params: Mapping[str, Any], patterns: Sequence[str] = ()) -> dict[str, Any]:
    """Parameters as the journal stores them: the value under every secret-looking key
    (at any depth; ``patterns`` adds names, from ``mask:`` in waldo.yml) replaced by
    :func:`masked_value`, and passwords inside URLs masked."""

    def secret(path: str, key: str) -> bool:
        return looks_secret(key, patterns) or looks_secret(path, patterns)

    def mask(value: Any, path: str | None, key: str | None) -> Any:
        if (
            path is not None
            and key is not None
            and secret(path, key)
            and value not in (None, "")
            and not isinstance(value, bool)  # a flag is no secret
        ):
            return masked_value(value)
        if isinstance(value, Mapping):
            return {
                str(k): mask(v, f"{path}.{k}" if path else str(k), str(k)) for k, v in value.items()
            }
        if isinstance(value, (list, tuple)):
            return [mask(v, None, None) for v in value]
        return mask_text(value) if isinstance(value, str) else value

    masked: dict[str, Any] = mask(dict(params), None, None)
    return masked
