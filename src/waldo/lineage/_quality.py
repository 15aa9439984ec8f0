"""Data check results as OpenLineage's ``dataQualityAssertions`` facet.

A node's checks describe the datasets it wrote: the facet goes on those datasets in
the node's end event (and a check run at the pipeline's end, on the pipeline's end
event), one assertion per expectation, named by the expectation and its column.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openlineage.client.event_v2 import RunEvent
from openlineage.client.facet_v2 import data_quality_assertions_dataset as dq

from waldo.journal import CheckResult
from waldo.lineage._events import PRODUCER

FACET = "dataQualityAssertions"


def add_quality_facets(event: RunEvent, results: Iterable[CheckResult]) -> RunEvent:
    """``event`` with a ``dataQualityAssertions`` facet on each of its datasets that
    ``results`` checked."""
    by_dataset: dict[str, list[dq.Assertion]] = {}
    for result in results:
        by_dataset.setdefault(result.dataset_name, []).append(
            dq.Assertion(
                assertion=result.expectation,
                success=result.success,
                column=result.kwargs.get("column"),
            )
        )
    for dataset in [*(event.inputs or []), *(event.outputs or [])]:
        assertions = by_dataset.get(catalog_name(dataset))
        if assertions:
            facet = dq.DataQualityAssertionsDatasetFacet(assertions=assertions, producer=PRODUCER)
            facets: dict[str, Any] = dict(dataset.facets or {})
            facets[FACET] = facet  # an InputDatasetFacet in the spec; the same fields
            dataset.facets = facets
    return event


def catalog_name(dataset: Any) -> str:
    """The catalog name of an event's dataset: its ``symlinks`` facet's, as datasets
    with a location are named by it; else its name."""
    links = (dataset.facets or {}).get("symlinks")
    identifiers = getattr(links, "identifiers", None)
    return str(identifiers[0].name) if identifiers else str(dataset.name)
