"""OpenLineage for Waldo's runs: ``waldo export openlineage`` and live emission.

Needs the ``lineage`` extra (``pip install 'waldo[lineage]'``: the official
``openlineage-python`` client, whose transports send the events).
"""

from __future__ import annotations

from waldo.lineage._client import TRANSPORTS, client_from_config, make_client
from waldo.lineage._events import PRODUCER, JobRun, node_job, pipeline_job, run_uuid
from waldo.lineage._export import export_openlineage, run_events
from waldo.lineage._live import LiveLineage

__all__ = [
    "PRODUCER",
    "TRANSPORTS",
    "JobRun",
    "LiveLineage",
    "client_from_config",
    "export_openlineage",
    "make_client",
    "node_job",
    "pipeline_job",
    "run_events",
    "run_uuid",
]
