"""Keeping credentials out of the journal.

Catalog snapshots are stored with secrets masked: values under secret-looking keys,
passwords inside URLs, and any string equal to a value from ``credentials.yml``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"
_SECRET_KEY = re.compile(
    r"(pass(word|wd)?|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|"
    r"credential|auth|session[_-]?key|signature|^key$|^con$|connection[_-]?string)",
    re.IGNORECASE,
)
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]+:)[^@\s]+(?P<tail>@)", re.I)


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
        if key is not None and _SECRET_KEY.search(key) and not isinstance(value, bool):
            if key.lower() == "credentials" and isinstance(value, str):
                return value  # a reference to a credentials entry, not a secret
            return MASK if value not in (None, "") else value
        if isinstance(value, str):
            if value in known:
                return MASK
            return _URL_PASSWORD.sub(rf"\g<head>{MASK}\g<tail>", value)
        return value

    return mask(content, None)
