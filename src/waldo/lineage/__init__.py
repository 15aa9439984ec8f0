"""OpenLineage export of the journal (``waldo export openlineage``) and live emission."""

from __future__ import annotations

__all__: list[str] = []
