"""Fingerprints of parameters: canonical, so only a real change changes them."""

from __future__ import annotations

import json
from typing import Any

import xxhash

from waldo.fingerprint._canonical import canonical


def params_fingerprint(value: Any) -> str:
    """xxh3-128 of a parameter value's canonical encoding (see ``_canonical``).

    Key order does not matter; ``1`` and ``1.0`` differ. Raises ``Unfingerprintable``
    for values that are not plain data.
    """
    text = json.dumps(canonical(value), separators=(",", ":"), ensure_ascii=False)
    return xxhash.xxh3_128_hexdigest(text.encode())
