"""Executions and steps of any pipeline (the DPO commands), synchronously.

An *execution* is a run of kind ``dpo``; a *step* is one of its node runs; a *model* is
a file under the step's base path, fingerprinted by content. A step's models are
compared with those of the same-named step of a previous execution (normally the last
successful one) to tell a shell, SQL or dbt pipeline which models changed.

Statuses (the seed's ``INITIALISED``/``IN_PROGRESS`` and ``COMPLETED``):

- an execution is ``running`` from ``init-execution`` until ``complete-execution``
  makes it ``success`` (or ``failed`` with ``--failed``, Waldo's addition); only
  ``success`` executions count as "last successful";
- a step is ``running`` from ``init-step`` until ``complete-step`` makes it ``success``
  (or ``failed``); ``persist-models`` (the seed's older form) records a step that is
  complete at once. ``complete-execution`` refuses an execution with running steps
  unless forced, which marks them ``interrupted``;
- an execution that no DPO command touched for its lease (``--lease``, default six
  hours) is abandoned: the next DPO command or ``waldo runs`` marks it ``interrupted``.

Step names match case-insensitively (``load`` and ``LOAD`` are one step, as the seed's
own code upper-cased model types); a step is stored with the spelling it was given.
An execution's *name* (``init-execution --name``, default: the current folder's name)
is kept as its pipeline name, so ``waldo runs --pipeline NAME`` lists its executions.

Ids are UUIDs. They are accepted in any spelling :class:`uuid.UUID` reads (with or
without hyphens, any case, braces) and always printed in the canonical hyphenated form.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from waldo._errors import (
    ExecutionNotFound,
    ExecutionStateError,
    InvalidId,
    InvalidInput,
    StepNotFound,
)
from waldo._version import __version__
from waldo.fingerprint import FileFingerprint, StatCache, fingerprint_glob, unmatched_patterns
from waldo.journal._model import current_user
from waldo.store import Store, executions

log = logging.getLogger("waldo.dpo")

ModelNaming = Literal["stem", "path"]

#: What ``get-last-successful-execution`` prints when there is none, and what
#: ``compare-step-models`` and ``get-execution-completion-timestamp`` accept as "no
#: previous execution". The seed's older ``NO_LAST_SUCCESSFUL_EXECUTION`` is accepted too.
NO_EXECUTION = ""
NO_EXECUTION_ALIASES = frozenset({"", "NO_LAST_SUCCESSFUL_EXECUTION"})


def parse_id(text: str, what: str) -> uuid.UUID:
    """A UUID from user input, or :class:`InvalidId` with a one-line message."""
    try:
        return uuid.UUID(text.strip())
    except (ValueError, AttributeError, TypeError):
        raise InvalidId(
            f"'{text}' is not a valid {what} id: expected a UUID such as "
            f"{uuid.UUID(int=0x1234_5678_9ABC_4DEF_8123_456789ABCDEF)}."
        ) from None


def is_no_execution(text: str) -> bool:
    return text.strip() in NO_EXECUTION_ALIASES


@dataclass(frozen=True)
class Step:
    """A step as ``init-step`` created it."""

    step_id: str
    execution_id: str
    step_name: str
    models: dict[str, FileFingerprint]
    cache_hits: int = 0
    cache_misses: int = 0
    #: Why the step may not be what the user meant (a pattern matching no file).
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ModelChanges:
    """How a step's models differ from the same-named step of a previous execution."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    #: Why the comparison may not be what the user meant (no same-named previous step).
    warnings: list[str] = field(default_factory=list)

    def names(self) -> list[str]:
        """Added and changed models, sorted by name: what to run again."""
        return sorted([*self.added, *self.changed])


def model_name(fingerprint: FileFingerprint, naming: ModelNaming) -> str:
    return fingerprint.stem if naming == "stem" else fingerprint.relative_path


def name_models(
    fingerprints: dict[str, FileFingerprint], naming: ModelNaming
) -> dict[str, FileFingerprint]:
    """Models by name; two files with the same name are an :class:`InvalidInput`."""
    by_name: dict[str, FileFingerprint] = {}
    for fp in fingerprints.values():
        name = model_name(fp, naming)
        other = by_name.get(name)
        if other is not None:
            raise InvalidInput(
                f"Two files are both model '{name}': {other.relative_path} and "
                f"{fp.relative_path}. Model names must be unique within a step (the seed's "
                "rule); narrow the patterns or use --model-names path."
            )
        by_name[name] = fp
    return by_name


def same_step(steps: Sequence[dict[str, object]], name: str) -> dict[str, object] | None:
    """The step called ``name`` in any letter case (the latest, if several)."""
    wanted = name.casefold()
    found = [s for s in steps if str(s["node_name"]).casefold() == wanted]
    return found[-1] if found else None


def pattern_warning(pattern: str, base: str | os.PathLike[str]) -> str:
    """What to say of a pattern that matches no file under ``base``."""
    where = os.path.abspath(base)
    hint = ""
    if not any(c in pattern for c in "*?["):
        hint = " (if the shell expanded a pattern, quote it: '**/*.json' instead of **/*.json)"
    return f"the pattern '{pattern}' matches no file under {where}{hint}."


class Executions:
    """The DPO operations over one store; every call is its own transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- executions -----------------------------------------------------------------
    def _execution(self, execution_id: str) -> dict[str, object]:
        canonical = str(parse_id(execution_id, "execution"))
        row = self.store.run(executions.get_execution, canonical)
        if row is None:
            raise ExecutionNotFound(f"No execution '{canonical}' in the journal.")
        return row

    def init_execution(
        self,
        execution_id: str | None = None,
        *,
        name: str | None = None,
        lease_seconds: float | None = None,
    ) -> str:
        """Start an execution (with a given UUID, or a new one); returns its id.

        ``name`` (default: the current folder's name) is the execution's pipeline name.
        """
        run_id = str(parse_id(execution_id, "execution") if execution_id else uuid.uuid4())
        label = (name if name is not None else Path.cwd().name).strip()
        if not label:
            raise InvalidInput("The execution name is empty; give --name NAME.")
        if lease_seconds is not None and lease_seconds <= 0:
            raise InvalidInput(
                f"The lease must be a positive number of seconds, not {lease_seconds}."
            )
        self.store.run(executions.interrupt_abandoned)
        values = {
            "waldo_version": __version__,
            "user_name": current_user(),
            "host": socket.gethostname(),
            "project_path": os.getcwd(),
            "runner": "waldo dpo",
            "pipeline_names": [label],
            "lease_seconds": lease_seconds or executions.DEFAULT_LEASE_SECONDS,
        }
        if not self.store.run(executions.insert_execution, run_id, values):
            raise ExecutionStateError(
                f"The execution '{run_id}' already exists; give a new id or none."
            )
        log.debug("execution %s (%s) started", run_id, label)
        return run_id

    def last_successful(self) -> str | None:
        """The id of the execution that completed successfully last, or None."""
        self.store.run(executions.interrupt_abandoned)
        row = self.store.run(executions.last_successful_execution)
        return str(row["run_id"]) if row else None

    def completion_timestamp(self, execution_id: str) -> datetime:
        """When an execution completed (database clock, aware UTC)."""
        row = self._execution(execution_id)
        finished = row.get("finished_at")
        if row["status"] == "running" or not isinstance(finished, datetime):
            raise ExecutionStateError(
                f"The execution '{row['run_id']}' has not completed (status {row['status']})."
            )
        return finished

    def last_updated_timestamp(self, execution_id: str) -> datetime:
        """When a DPO command last changed an execution (its completion, once complete)."""
        row = self._execution(execution_id)
        updated = row.get("updated_at") or row.get("started_at")
        if not isinstance(updated, datetime):  # pragma: no cover - set by init-execution
            raise ExecutionStateError(f"The execution '{row['run_id']}' has no timestamp.")
        return updated

    def complete_execution(
        self, execution_id: str, *, failed: bool = False, force: bool = False
    ) -> None:
        """Mark an execution ``success`` (or ``failed``); completing it again changes nothing.

        A failed execution is never the last successful one. A successful completion
        with steps still running is refused unless ``force``: the execution would become
        the last successful one although its steps never said they had finished.
        """
        row = self._execution(execution_id)
        run_id = str(row["run_id"])
        if row["status"] == "interrupted":
            raise ExecutionStateError(
                f"The execution '{run_id}' was interrupted ({row.get('error_message')}); "
                "start a new one with init-execution."
            )
        if row["status"] != "running":
            return
        running = [
            s
            for s in self.store.run(executions.steps_of_execution, run_id)
            if s["status"] == "running"
        ]
        if running and not (failed or force):
            listed = ", ".join(f"{s['node_name']} ({uuid.UUID(hex=str(s['id']))})" for s in running)
            raise ExecutionStateError(
                f"The execution '{run_id}' still has running steps: {listed}. Complete them "
                "with complete-step, or give --force to mark them interrupted."
            )
        status = "failed" if failed else "success"
        self.store.run(executions.complete_execution, run_id, status)
        log.debug("execution %s completed: %s", run_id, status)

    # -- steps ----------------------------------------------------------------------
    def _steps(self, run_id: str) -> list[dict[str, object]]:
        return self.store.run(executions.steps_of_execution, run_id)

    def _step(self, step_id: str) -> dict[str, object]:
        parsed = parse_id(step_id, "step")
        row = self.store.run(executions.get_step, parsed.hex)
        if row is None:
            raise StepNotFound(f"No step '{parsed}' in the journal.")
        return row

    def init_step(
        self,
        execution_id: str,
        step_name: str,
        base_path: str | os.PathLike[str],
        patterns: Sequence[str],
        *,
        cache_path: Path | None = None,
        naming: ModelNaming = "stem",
        strict: bool = False,
        completed: bool = False,
    ) -> Step:
        """Fingerprint a step's models and record them under a new step (running, or
        complete at once with ``completed``, as ``persist-models`` does).

        A pattern that matches no file is a warning in the returned step, or with
        ``strict`` an :class:`InvalidInput` (nothing is recorded).
        """
        if not step_name.strip():
            raise InvalidInput("The step name is empty.")
        self.store.run(executions.interrupt_abandoned)
        run = self._execution(execution_id)
        run_id = str(run["run_id"])
        if run["status"] != "running":
            done = "was interrupted" if run["status"] == "interrupted" else "is already complete"
            raise ExecutionStateError(
                f"The execution '{run_id}' {done}; start a new one with init-execution."
            )
        existing = same_step(self._steps(run_id), step_name)
        if existing is not None:
            raise ExecutionStateError(
                f"The execution '{run_id}' already has a step '{existing['node_name']}' "
                f"({uuid.UUID(hex=str(existing['id']))}); step names ignore letter case."
            )
        cache = StatCache(cache_path) if cache_path is not None else None
        try:
            fingerprints = fingerprint_glob(base_path, patterns, cache)
        finally:
            if cache is not None:
                cache.close()
        unmatched = unmatched_patterns(fingerprints, patterns)
        warnings = [pattern_warning(p, base_path) for p in unmatched]
        if warnings and strict:
            raise InvalidInput(f"{warnings[0][0].upper()}{warnings[0][1:]} (--strict)")
        models = name_models(fingerprints, naming)
        step_id = uuid.uuid4()
        rows = [
            {
                "model_name": name,
                "relative_path": fp.relative_path,
                "checksum": fp.digest,
                "algorithm": fp.algorithm,
                "size_bytes": fp.size,
                "modified_at": fp.mtime_ns / 1e9,
            }
            for name, fp in sorted(models.items())
        ]
        status = "success" if completed else "running"
        self.store.run(executions.insert_step, step_id.hex, run_id, step_name, rows, status)
        log.debug(
            "step %s (%s) of execution %s: %d models (%d read, %d from the stat cache)",
            step_id,
            step_name,
            run_id,
            len(rows),
            cache.misses if cache else len(rows),
            cache.hits if cache else 0,
        )
        return Step(
            step_id=str(step_id),
            execution_id=run_id,
            step_name=step_name,
            models=models,
            cache_hits=cache.hits if cache else 0,
            cache_misses=cache.misses if cache else len(rows),
            warnings=warnings,
        )

    def compare_step_models(self, step_id: str, previous_execution_id: str) -> ModelChanges:
        """Compare a step's models with the same-named step of a previous execution.

        With no previous execution (the sentinel) every model of the step counts as
        added; so it does when the previous execution has no step of that name, and
        the changes then carry a warning.
        """
        step = self._step(step_id)
        return self._compare(step, previous_execution_id)

    def compare_execution_models(
        self, previous_execution_id: str, execution_id: str, step_name: str
    ) -> ModelChanges:
        """The seed's ``compare-models``: the step ``step_name`` of an execution against
        the same-named step of a previous one."""
        run = self._execution(execution_id)
        step = same_step(self._steps(str(run["run_id"])), step_name)
        if step is None:
            raise StepNotFound(
                f"The execution '{run['run_id']}' has no models of type '{step_name}'; "
                "record them first with persist-models (or init-step)."
            )
        return self._compare(step, previous_execution_id)

    def _compare(self, step: dict[str, object], previous_execution_id: str) -> ModelChanges:
        current = {
            m["model_name"]: m for m in self.store.run(executions.models_of_step, step["id"])
        }
        previous: dict[str, dict[str, object]] = {}
        changes = ModelChanges()
        if not is_no_execution(previous_execution_id):
            before = self._execution(previous_execution_id)
            steps = self._steps(str(before["run_id"]))
            prior = same_step(steps, str(step["node_name"]))
            if prior is None:
                names = ", ".join(str(s["node_name"]) for s in steps) or "none"
                changes.warnings.append(
                    f"the previous execution {before['run_id']} has no step "
                    f"'{step['node_name']}' (its steps: {names}); every model counts as new."
                )
            else:
                previous = {
                    m["model_name"]: m
                    for m in self.store.run(executions.models_of_step, prior["id"])
                }
        for name, model in sorted(current.items()):
            old = previous.get(name)
            if old is None:
                changes.added.append(name)
            elif (old["checksum"], old["algorithm"]) != (model["checksum"], model["algorithm"]):
                changes.changed.append(name)
            else:
                changes.unchanged.append(name)
        changes.deleted.extend(sorted(set(previous) - set(current)))
        return changes

    def complete_step(
        self, step_id: str, rows_processed: int | None = None, *, failed: bool = False
    ) -> None:
        """Mark a step ``success`` (or ``failed``) with the rows it processed; again
        changes nothing."""
        step = self._step(step_id)
        if rows_processed is not None and not 0 <= rows_processed <= 2**63 - 1:
            raise InvalidInput(
                f"rows processed must be between 0 and {2**63 - 1}, not {rows_processed}."
            )
        if step["status"] == "running":
            status = "failed" if failed else "success"
            self.store.run(executions.complete_step, step["id"], rows_processed, status)
