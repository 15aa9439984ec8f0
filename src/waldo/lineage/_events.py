"""OpenLineage RunEvents from what Waldo knows of a run, built with the official client.

One pipeline run is one OpenLineage job run (``<project>.<pipeline>``): a START event
when it starts and COMPLETE, FAIL or ABORT when it ends, with every dataset it read (and
did not write itself) as an input and every dataset it wrote as an output. Each node
that ran is a job run of its own (``<project>.<pipeline>.<node>``) whose ``parent`` run
facet points at the pipeline's run. Run ids are UUIDs derived from Waldo's run id and
the node name, so the live events and a later export describe the same runs.

The export names datasets by where their data lives, as OpenLineage's naming spec says
(``waldo.lineage._datasets``), with their facets (schema, data source, version, output
statistics, the catalog name as a symlink) and each node's ``sourceCodeLocation``.
Live events name datasets the same way from the run's catalog entries (a dataset with
none, a MemoryDataset, keeps its catalog name in the job's namespace). Parameters are not
datasets and are left out.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    error_message_run,
    job_type_job,
    parent_run,
)

from waldo._version import __version__
from waldo.lineage._datasets import DatasetInfo, input_dataset, output_dataset

PRODUCER = f"https://pypi.org/project/waldo/{__version__}"
_UUID_NAMESPACE = uuid.UUID("5f6a3c1e-8f43-4d0e-9a55-77a1d5c0b1e2")  # Waldo's own

#: How a run or node status of the journal ends in OpenLineage.
END_STATES = {
    "success": RunState.COMPLETE,
    "failed": RunState.FAIL,
    "interrupted": RunState.ABORT,
}


def run_uuid(run_id: str, node: str | None = None) -> str:
    """The OpenLineage run id of a Waldo run (or of one node's run within it)."""
    key = f"run:{run_id}" if node is None else f"node:{run_id}\0{node}"
    return str(uuid.uuid5(_UUID_NAMESPACE, key))


def is_dataset(name: str) -> bool:
    return name != "parameters" and not name.startswith("params:")


#: A dataset as a job run knows it: its catalog name only (live), or what the journal
#: recorded of it (export).
Dataset = str | DatasetInfo


def _catalog_name(dataset: Dataset) -> str:
    return dataset if isinstance(dataset, str) else dataset.catalog_name


@dataclass
class JobRun:
    """One OpenLineage job run: a pipeline run, or a node's run inside one."""

    namespace: str
    job_name: str
    run_id: str
    inputs: list[Dataset] = field(default_factory=list)
    outputs: list[Dataset] = field(default_factory=list)
    parent: JobRun | None = None
    project_path: str | None = None  # where relative file paths of datasets start
    job_facets: dict[str, Any] = field(default_factory=dict)  # e.g. sourceCodeLocation

    def _datasets(self, found: Iterable[Dataset]) -> list[Dataset]:
        unique: dict[str, Dataset] = {}
        for dataset in found:
            unique.setdefault(_catalog_name(dataset), dataset)
        return [d for n, d in unique.items() if is_dataset(n)]

    def _input(self, dataset: Dataset) -> InputDataset:
        if isinstance(dataset, str):
            return InputDataset(self.namespace, dataset)
        return input_dataset(dataset, self.namespace, self.project_path)

    def _output(self, dataset: Dataset) -> OutputDataset:
        if isinstance(dataset, str):
            return OutputDataset(self.namespace, dataset)
        return output_dataset(dataset, self.namespace, self.project_path)

    def event(
        self,
        state: RunState,
        when: datetime | float | None = None,
        error: tuple[str, str | None] | None = None,
    ) -> RunEvent:
        """A RunEvent of this job run; ``error`` is (message, traceback) for FAIL."""
        facets: dict[str, Any] = {}
        if self.parent is not None:
            facets["parent"] = parent_run.ParentRunFacet(
                run=parent_run.Run(runId=self.parent.run_id),
                job=parent_run.Job(namespace=self.parent.namespace, name=self.parent.job_name),
            )
        if error is not None:
            facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
                message=error[0], programmingLanguage="python", stackTrace=error[1]
            )
        job_facets: dict[str, Any] = {
            "jobType": job_type_job.JobTypeJobFacet(
                processingType="BATCH",
                integration="WALDO",
                jobType="TASK" if self.parent is not None else "JOB",
            ),
            **self.job_facets,
        }
        return RunEvent(
            eventType=state,
            eventTime=event_time(when),
            run=Run(runId=self.run_id, facets=facets),
            job=Job(namespace=self.namespace, name=self.job_name, facets=job_facets),
            inputs=[self._input(d) for d in self._datasets(self.inputs)],
            outputs=[self._output(d) for d in self._datasets(self.outputs)],
            producer=PRODUCER,
        )


def event_time(when: datetime | float | None) -> str:
    """ISO-8601 with a time zone, as the spec's ``date-time`` wants."""
    if when is None:
        moment = datetime.now(timezone.utc)
    elif isinstance(when, datetime):
        moment = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    else:
        moment = datetime.fromtimestamp(when, tz=timezone.utc)
    return moment.isoformat()


def pipeline_job(
    namespace: str,
    project: str | None,
    pipelines: Iterable[str],
    run_id: str,
    inputs: Iterable[Dataset] = (),
    outputs: Iterable[Dataset] = (),
    project_path: str | None = None,
) -> JobRun:
    """The job run of a whole pipeline run (a DPO execution's pipeline is its name)."""
    name = f"{project or 'waldo'}.{'+'.join(pipelines) or '__default__'}"
    return JobRun(
        namespace,
        name,
        run_uuid(run_id),
        list(inputs),
        list(outputs),
        project_path=project_path,
    )


def node_job(
    parent: JobRun,
    waldo_run_id: str,
    node: str,
    inputs: Iterable[Dataset],
    outputs: Iterable[Dataset],
    job_facets: dict[str, Any] | None = None,
) -> JobRun:
    """The job run of one node, child of the pipeline's run."""
    return JobRun(
        parent.namespace,
        f"{parent.job_name}.{node}",
        run_uuid(waldo_run_id, node),
        inputs=list(inputs),
        outputs=list(outputs),
        parent=parent,
        project_path=parent.project_path,
        job_facets=dict(job_facets or {}),
    )
