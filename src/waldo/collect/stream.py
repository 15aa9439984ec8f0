"""Streams: collect raw records, extract them into tool models, convert those to domain rows.

A :class:`Stream` is the unit of collection. ``collect(state, context)`` yields
``(raw, new_state)`` pairs: ``raw`` is a JSON-able record as the tool gave it, and
``new_state`` the state after it (the next collection starts from the last state
committed). ``extract`` turns a raw record into the stream's ``tool_model`` (by default
field by field, by name or alias) and ``convert`` a tool model into domain models.

A :class:`Substream` collects once per item of its ``parent_stream`` (the jobs of
each workflow run): its ``collect`` gets the parent's tool model as a third argument.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable
from enum import Enum
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, Field, create_model

from waldo._errors import PluginError
from waldo.collect.model import DomainModel, ToolModel

if TYPE_CHECKING:
    from waldo.collect.context import Context

__all__ = ["DomainType", "Records", "Stream", "Substream"]

#: What ``collect`` yields: ``(raw record, state after it)`` pairs.
Records = Iterable[tuple[object, dict[str, Any]]]


class DomainType(str, Enum):
    """DevLake's domains that Waldo has models for; a stream lists those its domain rows
    belong to (``waldo.collect.domain_layer``: ``code``, ``devops``, ``crossdomain``)."""

    CODE = "CODE"
    CROSS = "CROSS"
    CICD = "CICD"


def snake_case(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


class Stream:
    """One kind of record of a tool; subclass and implement ``collect`` and ``convert``."""

    tool_model: ClassVar[type[ToolModel]]
    domain_types: ClassVar[list[DomainType]] = []

    def __init__(self, plugin_name: str) -> None:
        self.plugin_name = plugin_name
        if not isinstance(getattr(type(self), "tool_model", None), type) or not issubclass(
            type(self).tool_model, ToolModel
        ):
            raise PluginError(
                f"Stream {type(self).__name__} must set `tool_model` to a ToolModel class."
            )
        if not hasattr(self.tool_model, "__table__"):
            raise PluginError(
                f"{self.tool_model.__name__} (tool model of {type(self).__name__}) must be "
                "a table: `class ...(ToolModel, table=True)`."
            )

    @property
    def name(self) -> str:
        """The stream's name on the command line: its class name in snake case."""
        return snake_case(type(self).__name__)

    @property
    def raw_table_name(self) -> str:
        return f"_raw_{self.plugin_name}_{self.name}"

    @property
    def tool_table_name(self) -> str:
        """``_tool_<plugin>_<model table name>``; a model whose ``__tablename__``
        already starts with ``_tool_`` keeps it (names in SQLModel's metadata are
        global, so built-in plugins spell theirs out)."""
        name = str(self.tool_model.__tablename__)
        return name if name.startswith("_tool_") else f"_tool_{self.plugin_name}_{name}"

    # -- the three steps ---------------------------------------------------------------
    def collect(self, state: dict[str, Any], context: Context) -> Records:
        """Yield ``(raw record, state after it)`` pairs, starting from ``state``."""
        raise NotImplementedError(f"{type(self).__name__}.collect")

    def extract(self, raw_data: dict[str, Any]) -> ToolModel:
        """A tool model from a raw record whose keys are the model's field names or
        aliases; override when the tool's record does not line up with the model.

        A substream's ``extract`` may take a second argument, ``parent``: the parent's
        tool row (a dict) the record was collected for, when the record does not name
        it itself (the commits of a pull request do not name the pull request).
        """
        return self.tool_model.model_validate(self._by_field_keys(raw_data))

    def convert(self, tool_model: Any, context: Context) -> Iterable[DomainModel]:
        """Domain models for one tool model (none by default)."""
        return ()

    # -- helpers the runner uses -----------------------------------------------------
    @cached_property
    def _field_keys(self) -> list[tuple[str, str | None]]:
        return [(name, field.alias) for name, field in self.tool_model.model_fields.items()]

    def _by_field_keys(self, raw_data: dict[str, Any]) -> dict[str, Any]:
        """The raw record's values under the keys the tool model validates: its
        aliases where it has them (found under the alias or the field name)."""
        data: dict[str, Any] = {}
        for name, alias in self._field_keys:
            if alias is not None and alias in raw_data:
                data[alias] = raw_data[alias]
            elif name in raw_data:
                data[alias or name] = raw_data[name]
        return data

    @cached_property
    def field_names(self) -> frozenset[str]:
        return frozenset(self.tool_model.model_fields)

    @cached_property
    def _row_model(self) -> type[BaseModel] | None:
        """A plain pydantic twin of the tool model, used to validate raw records when
        the default ``extract`` applies: the same fields, types, defaults and aliases,
        without the cost of a SQLAlchemy-instrumented instance per record (five times
        cheaper). None when the stream overrides ``extract`` or the model has its own
        validators, which only the model itself runs."""
        decorators = self.tool_model.__pydantic_decorators__
        custom = (
            decorators.field_validators
            or decorators.model_validators
            or decorators.validators
            or decorators.root_validators
        )
        if type(self).extract is not Stream.extract or custom:
            return None
        fields: dict[str, Any] = {}
        for name, info in self.tool_model.model_fields.items():
            default: Any = ... if info.is_required() else info.default
            if info.default_factory is not None:
                fields[name] = (
                    info.annotation,
                    Field(default_factory=info.default_factory, alias=info.alias),
                )
            else:
                fields[name] = (info.annotation, Field(default, alias=info.alias))
        return create_model(f"{self.tool_model.__name__}Row", **fields)

    @cached_property
    def extract_takes_parent(self) -> bool:
        return len(inspect.signature(self.extract).parameters) >= 2

    def extract_row(
        self, raw_data: dict[str, Any], parent: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """The tool row for a raw record: ``extract`` then the model's columns."""
        row_model = self._row_model
        if row_model is None:
            if self.extract_takes_parent:
                model = self.extract(raw_data, parent)  # type: ignore[call-arg]
            else:
                model = self.extract(raw_data)
            if model is None:
                return None
            columns = self.tool_model.__table__.columns  # type: ignore[attr-defined]
            return {c.name: getattr(model, c.name, None) for c in columns}
        return dict(row_model.model_validate(self._by_field_keys(raw_data)).__dict__)

    @cached_property
    def convert_takes_context(self) -> bool:
        """The seed writes ``convert(self, user)``; pydevlake passes a context too."""
        params = inspect.signature(self.convert).parameters
        return len(params) >= 2

    def run_convert(self, tool_model: Any, context: Context) -> Iterable[DomainModel]:
        if self.convert_takes_context:
            return self.convert(tool_model, context) or ()
        return self.convert(tool_model) or ()  # type: ignore[call-arg]

    def domain_id(self, *keys: Any, context: Context | None = None) -> str:
        """A domain id in DevLake's style: ``plugin:ToolModel:connection:key...``."""
        if context is not None:
            return context.domain_id(self.plugin_name, self.tool_model.__name__, *keys)
        return ":".join([self.plugin_name, self.tool_model.__name__, "1", *map(str, keys)])


class Substream(Stream):
    """A stream collected once per tool model of its ``parent_stream``."""

    parent_stream: ClassVar[type[Stream]]

    def __init__(self, plugin_name: str) -> None:
        super().__init__(plugin_name)
        parent = getattr(type(self), "parent_stream", None)
        if not (isinstance(parent, type) and issubclass(parent, Stream)):
            raise PluginError(f"Substream {type(self).__name__} must set `parent_stream`.")

    def collect(  # type: ignore[override]
        self, state: dict[str, Any], context: Context, parent: Any
    ) -> Records:
        """Yield ``(raw record, state after it)`` pairs for one parent item."""
        raise NotImplementedError(f"{type(self).__name__}.collect")
