"""The context of a collection: where to write, how to connect, what to collect.

On the command line it is one JSON object, as in pydevlake::

    {"db_url": "sqlite:///.waldo/waldo.db",
     "connection": {"url": "https://api.github.com", "token": "..."},
     "scope": {"id": "octo/hello", "name": "hello"},
     "options": {}, "incremental": true}

``db_url`` and ``connection`` are required; ``scope`` defaults to an empty scope id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from waldo._errors import InvalidInput
from waldo.collect.model import Connection, ToolScope

__all__ = ["Context"]


def _first_error(exc: ValidationError, where: str) -> str:
    error = exc.errors()[0]
    location = ".".join(str(p) for p in error.get("loc", ()))
    return f"{where}.{location}: {error.get('msg', 'invalid')}" if location else where


@dataclass
class Context:
    """What a stream's ``collect`` and ``convert`` receive."""

    db_url: str
    connection: Connection
    scope: ToolScope = field(default_factory=ToolScope)
    options: dict[str, Any] = field(default_factory=dict)
    incremental: bool = True

    @property
    def connection_id(self) -> str:
        return str(self.connection.id)

    @property
    def scope_id(self) -> str:
        return str(self.scope.id or "")

    def domain_id(self, plugin: str, kind: str, *keys: Any) -> str:
        """A domain row id in DevLake's style: ``plugin:Kind:connection:key...``, so the
        same tool object gets the same id in every stream that refers to it."""
        return ":".join([plugin, kind, self.connection_id, *map(str, keys)])

    @classmethod
    def parse(
        cls,
        text: str | dict[str, Any],
        connection_type: type[Connection] = Connection,
        scope_type: type[ToolScope] | None = None,
    ) -> Context:
        """Build a context from its JSON; a mistake gives a one-line InvalidInput."""
        if isinstance(text, str):
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise InvalidInput(
                    f"The context is not valid JSON ({exc.msg} at column {exc.colno}); "
                    """expected e.g. '{"db_url": "sqlite:///waldo.db", "connection": {...}}'."""
                ) from None
        else:
            data = text
        if not isinstance(data, dict):
            raise InvalidInput("The context must be a JSON object with db_url and connection.")
        missing = [k for k in ("db_url", "connection") if k not in data]
        if missing:
            raise InvalidInput(f"The context has no {' or '.join(missing)}.")
        connection = _model(connection_type, data["connection"], "connection")
        scope = _model(scope_type or ToolScope, data.get("scope") or {}, "scope")
        if scope.connection_id is None:
            scope.connection_id = str(connection.id)
        return cls(
            db_url=str(data["db_url"]),
            connection=connection,
            scope=scope,
            options=dict(data.get("options") or {}),
            incremental=bool(data.get("incremental", True)),
        )


def _model(model: type[Any], value: Any, where: str) -> Any:
    if not isinstance(value, dict):
        raise InvalidInput(f"The context's {where} must be a JSON object.")
    try:
        if issubclass(model, BaseModel):
            return model.model_validate(value)
        return model(**value)
    except ValidationError as exc:
        raise InvalidInput(f"Bad context: {_first_error(exc, where)}.") from None
