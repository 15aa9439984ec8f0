"""Fingerprints: pure functions from content to stable digests. No database here.

This first part covers what the run journal needs: canonical JSON digests for
content-addressed snapshots (catalogs, pipelines) and the seed's 8-character short ids.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from waldo.fingerprint._canonical import canonical
    from waldo.fingerprint._code import (
        CodeFingerprinter,
        CodeManifest,
        code_fingerprint,
        code_manifest,
    )
    from waldo.fingerprint._content import (
        canonical_json,
        content_digest,
        named_content_json,
        short_id,
        text_digest,
    )
    from waldo.fingerprint._data import Fingerprint, data_fingerprint
    from waldo.fingerprint._files import ALGORITHM as FILE_DIGEST_ALGORITHM
    from waldo.fingerprint._files import (
        FileFingerprint,
        StatCache,
        expand_patterns,
        file_digest,
        fingerprint_file,
        fingerprint_glob,
        fingerprint_tree,
        tree_digest,
        unmatched_patterns,
    )
    from waldo.fingerprint._params import params_fingerprint
    from waldo.fingerprint._stats import DEFAULT_MAX_ROWS, data_stats
else:
    from waldo._lazy import attach, members

    __getattr__, __dir__ = attach(
        __name__,
        {
            **members("waldo.fingerprint._canonical", ("canonical",)),
            **members(
                "waldo.fingerprint._code",
                ("CodeFingerprinter", "CodeManifest", "code_fingerprint", "code_manifest"),
            ),
            **members(
                "waldo.fingerprint._content",
                (
                    "canonical_json",
                    "content_digest",
                    "named_content_json",
                    "short_id",
                    "text_digest",
                ),
            ),
            **members("waldo.fingerprint._data", ("Fingerprint", "data_fingerprint")),
            **members(
                "waldo.fingerprint._files",
                (
                    "FileFingerprint",
                    "StatCache",
                    "expand_patterns",
                    "file_digest",
                    "fingerprint_file",
                    "fingerprint_glob",
                    "fingerprint_tree",
                    "tree_digest",
                    "unmatched_patterns",
                ),
            ),
            **members("waldo.fingerprint._params", ("params_fingerprint",)),
            **members("waldo.fingerprint._stats", ("DEFAULT_MAX_ROWS", "data_stats")),
            "FILE_DIGEST_ALGORITHM": "waldo.fingerprint._files:ALGORITHM",
        },
    )

__all__ = [
    "DEFAULT_MAX_ROWS",
    "FILE_DIGEST_ALGORITHM",
    "CodeFingerprinter",
    "CodeManifest",
    "FileFingerprint",
    "Fingerprint",
    "StatCache",
    "canonical",
    "canonical_json",
    "code_fingerprint",
    "code_manifest",
    "content_digest",
    "data_fingerprint",
    "data_stats",
    "expand_patterns",
    "file_digest",
    "fingerprint_file",
    "fingerprint_glob",
    "fingerprint_tree",
    "named_content_json",
    "params_fingerprint",
    "short_id",
    "text_digest",
    "tree_digest",
    "unmatched_patterns",
]
