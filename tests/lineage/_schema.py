"""Validating OpenLineage events against the official JSON schemas (``openlineage_spec/``).

An event is validated against the core spec's ``RunEvent``; then every facet it carries
(run, job, dataset, input and output facets) against the schema its ``_schemaURL`` names,
resolved among the vendored official schemas by ``$id``: a facet whose schema is not
there fails, so a new facet cannot slip through unchecked. The ``uri`` and ``date-time``
formats are checked too (jsonschema leaves them to optional packages).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

SPEC = Path(__file__).with_name("openlineage_spec")
RUN_EVENT = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"

FORMATS = FormatChecker()


@FORMATS.checks("uri", raises=ValueError)
def _uri(text: object) -> bool:
    if not isinstance(text, str):
        return True
    parts = urlsplit(text)
    return bool(parts.scheme and (parts.netloc or parts.path))


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(text: object) -> bool:
    if not isinstance(text, str):
        return True
    return datetime.fromisoformat(text.replace("Z", "+00:00")).tzinfo is not None


@cache
def registry() -> Registry:
    documents = [SPEC / "OpenLineage.json", *sorted((SPEC / "facets").glob("*.json"))]
    resources = []
    for path in documents:
        contents = json.loads(path.read_text())
        resources.append((contents["$id"], Resource.from_contents(contents)))
    return Registry().with_resources(resources)


def _validator(ref: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": ref}, registry=registry(), format_checker=FORMATS)


def facets_of(event: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every facet of an event, with where it sits."""
    for name, facet in (event["run"].get("facets") or {}).items():
        yield f"run.{name}", facet
    for name, facet in (event["job"].get("facets") or {}).items():
        yield f"job.{name}", facet
    for side in ("inputs", "outputs"):
        for dataset in event.get(side) or []:
            for group in ("facets", "inputFacets", "outputFacets"):
                for name, facet in (dataset.get(group) or {}).items():
                    yield f"{side}[{dataset['name']}].{group}.{name}", facet


def validate(event: dict[str, Any]) -> list[str]:
    """Raise if ``event`` or one of its facets breaks the official schemas; return the
    facets checked (``job.sourceCodeLocation``...)."""
    _validator(RUN_EVENT).validate(event)
    checked = []
    for where, facet in facets_of(event):
        url = facet["_schemaURL"]
        document = url.split("#", 1)[0]
        try:
            registry().get_or_retrieve(document)
        except Exception as exc:
            raise AssertionError(f"{where}: no official schema {document} in {SPEC}") from exc
        _validator(url).validate(facet)
        checked.append(where)
    return checked
