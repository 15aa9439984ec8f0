"""Checking events against the OpenLineage 2-0-2 RunEvent schema.

The rules below restate, as a JSON Schema (draft 2020-12), what the core spec
(``https://openlineage.io/spec/2-0-2/OpenLineage.json``) requires of a RunEvent and of
the facets Waldo sends (``ParentRunFacet``, ``ErrorMessageRunFacet``, ``JobTypeJobFacet``):
required fields, the event types, UUID run ids, date-time and URI formats, and the
``_producer``/``_schemaURL`` every facet carries. Formats are checked by
:func:`validate` itself, so no optional format package is needed.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import jsonschema

_FACET = {
    "type": "object",
    "properties": {"_producer": {"type": "string"}, "_schemaURL": {"type": "string"}},
    "required": ["_producer", "_schemaURL"],
}
_JOB_REF = {
    "type": "object",
    "properties": {"namespace": {"type": "string"}, "name": {"type": "string"}},
    "required": ["namespace", "name"],
}
_DATASET = {
    "type": "object",
    "properties": {
        "namespace": {"type": "string"},
        "name": {"type": "string"},
        "facets": {"type": "object", "additionalProperties": _FACET},
    },
    "required": ["namespace", "name"],
}

RUN_EVENT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "eventTime": {"type": "string"},
        "producer": {"type": "string"},
        "schemaURL": {"type": "string"},
        "eventType": {"enum": ["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"]},
        "run": {
            "type": "object",
            "properties": {
                "runId": {"type": "string"},
                "facets": {
                    "type": "object",
                    "properties": {
                        "parent": {
                            "allOf": [
                                _FACET,
                                {
                                    "type": "object",
                                    "properties": {
                                        "run": {
                                            "type": "object",
                                            "properties": {"runId": {"type": "string"}},
                                            "required": ["runId"],
                                        },
                                        "job": _JOB_REF,
                                    },
                                    "required": ["run", "job"],
                                },
                            ]
                        },
                        "errorMessage": {
                            "allOf": [
                                _FACET,
                                {
                                    "type": "object",
                                    "properties": {
                                        "message": {"type": "string"},
                                        "programmingLanguage": {"type": "string"},
                                        "stackTrace": {"type": "string"},
                                    },
                                    "required": ["message", "programmingLanguage"],
                                },
                            ]
                        },
                    },
                    "additionalProperties": _FACET,
                },
            },
            "required": ["runId"],
        },
        "job": {
            "allOf": [
                _JOB_REF,
                {
                    "type": "object",
                    "properties": {"facets": {"type": "object", "additionalProperties": _FACET}},
                },
            ]
        },
        "inputs": {"type": "array", "items": _DATASET},
        "outputs": {"type": "array", "items": _DATASET},
    },
    "required": ["eventTime", "producer", "schemaURL", "run", "job"],
}


def _uri(text: str) -> bool:
    parts = urlsplit(text)
    return bool(parts.scheme and (parts.netloc or parts.path))


def validate(event: dict[str, Any]) -> None:
    """Raise if ``event`` is not a valid OpenLineage 2-0-2 RunEvent."""
    jsonschema.validate(event, RUN_EVENT_SCHEMA)
    datetime.fromisoformat(event["eventTime"])
    assert "+" in event["eventTime"] or event["eventTime"].endswith("Z"), event["eventTime"]
    assert _uri(event["producer"]) and _uri(event["schemaURL"])
    assert event["schemaURL"].startswith("https://openlineage.io/spec/2-0-2/OpenLineage.json")
    uuid.UUID(event["run"]["runId"])
    for name, facet in (event["run"].get("facets") or {}).items():
        assert _uri(facet["_producer"]) and _uri(facet["_schemaURL"]), name
    parent = (event["run"].get("facets") or {}).get("parent")
    if parent:
        uuid.UUID(parent["run"]["runId"])
