"""Fingerprints: pure functions from content to stable digests. No database here.

This first part covers what the run journal needs: canonical JSON digests for
content-addressed snapshots (catalogs, pipelines) and the seed's 8-character short ids.
"""

from __future__ import annotations

from waldo.fingerprint._content import canonical_json, content_digest, short_id

__all__ = ["canonical_json", "content_digest", "short_id"]
