"""Running a plugin's streams: collect, extract and convert through the collectors' journal.

The runner is the only place that moves records between a plugin's code and the store.
Collection commits raw records in batches (``batch_size`` records, or every
``commit_seconds``), each batch together with the last state yielded for it; so a
killed collection resumes from its last committed batch. Extraction and conversion
replace the scope's previous rows in one transaction each.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.orm import configure_mappers

from waldo._errors import CollectorError, InvalidInput, PluginError
from waldo.collect.context import Context
from waldo.collect.model import DomainModel, ToolModel
from waldo.collect.plugin import Plugin
from waldo.collect.stream import Stream, Substream
from waldo.journal import CollectorJournal, RawRow, StateKey, raw_params

STEPS = ("collect", "extract", "convert")

#: Called with (stream name, step, records so far) while a step runs.
Progress = Callable[[str, str, int], None]


@dataclass
class StepResult:
    stream: str
    step: str
    records: int
    tables: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "stream": self.stream,
            "step": self.step,
            "records": self.records,
            "tables": self.tables,
            "seconds": round(self.seconds, 3),
        }


def _json(value: Any) -> str:
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json")
    return json.dumps(value, default=str, separators=(",", ":"))


def tool_row(stream: Stream, model: ToolModel) -> dict[str, Any]:
    """A tool model as a row of its table, by column name."""
    return {c.name: getattr(model, c.name, None) for c in stream.tool_model.__table__.columns}  # type: ignore[attr-defined]


def tool_model_from_row(stream: Stream, row: dict[str, Any]) -> Any:
    """The tool model back from its row (for ``convert`` and substreams).

    The values come from the tool table, already typed, so the instance is assembled
    directly (SQLAlchemy's ``new_instance`` plus the pydantic bookkeeping): seven times
    faster than ``__init__``, which re-sets every attribute through the ORM's
    instrumentation. A model whose ORM state cannot be made that way falls back to it.
    """
    model = stream.tool_model
    names = stream.field_names
    values = {k: v for k, v in row.items() if k in names}
    try:
        instance = model._sa_class_manager.new_instance()  # type: ignore[attr-defined]
    except Exception:
        return model(**values)
    instance.__dict__.update(values)
    object.__setattr__(instance, "__pydantic_fields_set__", set(values))
    object.__setattr__(instance, "__pydantic_extra__", None)
    object.__setattr__(instance, "__pydantic_private__", None)
    return instance


class Runner:
    """Runs one plugin's streams for one context."""

    def __init__(
        self,
        plugin: Plugin,
        context: Context,
        journal: CollectorJournal | None = None,
        *,
        batch_size: int = 500,
        commit_seconds: float = 2.0,
        progress: Progress | None = None,
    ) -> None:
        self.plugin = plugin
        self.context = context
        self.journal = journal or CollectorJournal.for_url(context.db_url)
        self.batch_size = max(1, int(context.options.get("batch_size", batch_size)))
        self.commit_seconds = commit_seconds
        self.progress = progress
        self.params = raw_params(context.connection_id, context.scope_id)
        self._prepared = False

    # -- tables ------------------------------------------------------------------------
    def raw_table(self, stream: Stream) -> sa.Table:
        return self.journal.raw_table(stream.raw_table_name)

    def tool_table(self, stream: Stream) -> sa.Table:
        return self.journal.tool_table(stream.tool_table_name, stream.tool_model.__table__)  # type: ignore[attr-defined]

    def prepare(self) -> None:
        """Migrate the store and create every raw and tool table of the plugin."""
        if self._prepared:
            return
        configure_mappers()  # tool models' ORM state, for tool_model_from_row
        needed: list[sa.Table] = []
        for stream in self.plugin.stream_instances().values():
            needed += [self.raw_table(stream), self.tool_table(stream)]
        self.journal.prepare(needed)
        self._prepared = True

    def state_key(self, stream: Stream) -> StateKey:
        return StateKey(
            self.plugin.name, self.context.connection_id, stream.name, self.context.scope_id
        )

    def _tick(self, stream: Stream, step: str, count: int) -> None:
        if self.progress is not None:
            self.progress(stream.name, step, count)

    # -- collect -----------------------------------------------------------------------
    def _records(
        self, stream: Stream, state: dict[str, Any]
    ) -> Iterator[tuple[object, dict[str, Any], str | None]]:
        if not isinstance(stream, Substream):
            for raw, new_state in stream.collect(state, self.context) or ():
                yield raw, new_state, None
            return
        parent = self.plugin.get_stream(stream.parent_stream(self.plugin.name).name)
        self._check_parent_extracted(stream, parent)
        for row in self.journal.tool_rows(
            self.tool_table(parent), self.context.connection_id, self.params
        ):
            item = tool_model_from_row(parent, row)
            parent_json = _json({c: row[c] for c in row if not c.startswith("_raw")})
            for raw, new_state in stream.collect(state, self.context, item) or ():
                yield raw, new_state, parent_json
                state = new_state

    def _check_parent_extracted(self, stream: Stream, parent: Stream) -> None:
        """A substream collects per tool row of its parent: with none, say how to get
        them rather than collect nothing (a parent collected with no records is fine)."""
        if self.journal.count(self.tool_table(parent), self.params):
            return
        collected = self.journal.count(self.raw_table(parent), self.params)
        if not collected and self.journal.was_collected(self.state_key(parent)):
            return  # collected, and the tool had nothing
        missing = "extracted" if collected else "collected"
        steps = "extract" if collected else "collect, then extract"
        raise InvalidInput(
            f"{stream.name} collects for each {parent.name} record, and {parent.name} has "
            f"no tool rows yet for this scope (not {missing}): run `{steps} CONTEXT_JSON "
            f"{parent.name}` first, or `run CONTEXT_JSON {parent.name} {stream.name}`."
        )

    def collect(self, stream: Stream) -> StepResult:
        """Collect the stream's raw records, committing state with each batch."""
        self.prepare()
        started = time.monotonic()
        key = self.state_key(stream)
        raw = self.raw_table(stream)
        state = self.journal.load_state(key) if self.context.incremental else {}
        if not state:
            # From scratch (a full run, a first run, or a stream that keeps no state):
            # what earlier runs collected for this scope is superseded, not added to.
            self.journal.start_full(key, raw, self.params)
        buffer: list[tuple[str, str | None, str | None]] = []
        last_state = dict(state)
        total = 0
        last_commit = time.monotonic()
        for record, new_state, parent in self._records(stream, state):
            if not isinstance(new_state, dict):
                raise PluginError(
                    f"{type(stream).__name__}.collect must yield (record, state dict) pairs; "
                    f"got a {type(new_state).__name__} as state."
                )
            buffer.append((_json(record), None, parent))
            # The state object may be mutated by the plugin later: keep a snapshot.
            last_state = json.loads(json.dumps(new_state, default=str))
            if (
                len(buffer) >= self.batch_size
                or time.monotonic() - last_commit > self.commit_seconds
            ):
                self.journal.commit_raw(key, raw, self.params, buffer, last_state)
                total += len(buffer)
                buffer = []
                last_commit = time.monotonic()
                self._tick(stream, "collect", total)
        self.journal.commit_raw(key, raw, self.params, buffer, last_state)
        total += len(buffer)
        self._tick(stream, "collect", total)
        return StepResult(stream.name, "collect", total, seconds=time.monotonic() - started)

    # -- extract -----------------------------------------------------------------------
    def extract(self, stream: Stream) -> StepResult:
        """Replace the scope's tool rows with the extraction of its raw rows."""
        self.prepare()
        started = time.monotonic()

        def extractor(record: RawRow) -> dict[str, Any] | None:
            try:
                parent = json.loads(record.input) if record.input else None
                return stream.extract_row(json.loads(record.data), parent)
            except ValidationError as exc:
                error = exc.errors()[0]
                where = ".".join(str(p) for p in error.get("loc", ())) or "record"
                raise CollectorError(
                    f"{stream.name}: raw record {record.id} of {stream.raw_table_name} does "
                    f"not fit {stream.tool_model.__name__}: {where}: {error.get('msg')}; "
                    "override the stream's extract() to map it."
                ) from None

        count = self.journal.extract(
            self.raw_table(stream),
            self.tool_table(stream),
            self.context.connection_id,
            self.params,
            extractor,
        )
        self._tick(stream, "extract", count)
        return StepResult(stream.name, "extract", count, seconds=time.monotonic() - started)

    # -- convert -----------------------------------------------------------------------
    def _domain_scopes(self) -> Iterable[tuple[str, dict[str, Any]]]:
        for scope in self.plugin.domain_scopes(self.context.scope) or ():
            yield scope.__tablename__, scope.to_row()

    def convert(self, stream: Stream) -> StepResult:
        """Replace the domain rows converted from the scope's tool rows."""
        self.prepare()
        started = time.monotonic()

        def converter(row: dict[str, Any]) -> Iterable[tuple[str, dict[str, Any]]]:
            model = tool_model_from_row(stream, row)
            for domain in stream.run_convert(model, self.context):
                if not isinstance(domain, DomainModel):
                    raise PluginError(
                        f"{type(stream).__name__}.convert must yield domain models "
                        f"(waldo.collect.domain_layer), not {type(domain).__name__}."
                    )
                yield domain.__tablename__, domain.to_row()

        first = next(iter(self.plugin.stream_instances()))
        counts = self.journal.convert(
            self.tool_table(stream),
            stream.raw_table_name,
            self.context.connection_id,
            self.params,
            converter,
            extra=self._domain_scopes() if stream.name == first else (),
        )
        total = sum(counts.values())
        self._tick(stream, "convert", total)
        return StepResult(stream.name, "convert", total, counts, seconds=time.monotonic() - started)

    def step(self, step: str, stream_name: str) -> StepResult:
        stream = self.plugin.get_stream(stream_name)
        action: Callable[[Stream], StepResult] = getattr(self, step)
        return action(stream)

    def run(self, stream_names: Iterable[str] | None = None) -> list[StepResult]:
        """Collect, extract and convert each stream in order (all streams by default)."""
        names = list(stream_names or self.plugin.stream_instances())
        streams = [self.plugin.get_stream(n) for n in names]
        results: list[StepResult] = []
        for stream in streams:
            results.append(self.collect(stream))
            results.append(self.extract(stream))
            results.append(self.convert(stream))
        return results
