"""Fingerprints: pure functions from content to stable digests. No database here.

This first part covers what the run journal needs: canonical JSON digests for
content-addressed snapshots (catalogs, pipelines) and the seed's 8-character short ids.
"""

from __future__ import annotations

from waldo.fingerprint._content import canonical_json, content_digest, short_id
from waldo.fingerprint._files import ALGORITHM as FILE_DIGEST_ALGORITHM
from waldo.fingerprint._files import (
    FileFingerprint,
    StatCache,
    expand_patterns,
    file_digest,
    fingerprint_file,
    fingerprint_glob,
    fingerprint_tree,
)

__all__ = [
    "FILE_DIGEST_ALGORITHM",
    "FileFingerprint",
    "StatCache",
    "canonical_json",
    "content_digest",
    "expand_patterns",
    "file_digest",
    "fingerprint_file",
    "fingerprint_glob",
    "fingerprint_tree",
    "short_id",
]
