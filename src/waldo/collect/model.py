"""The models a plugin is made of: its connection, scopes, tool models and domain models.

Names follow pydevlake so a pydevlake plugin ports by changing its imports:

- :class:`Connection`: the parameters to reach a tool (URL, token...). A token typed
  ``SecretStr`` never shows in a repr, a log line or an error message.
- :class:`ToolScope`: what is collected within a connection (a repository, a folder).
- :class:`ToolModel`: a tool's record as a SQLModel table. It must declare a primary
  key: extraction upserts by it, so that a record collected twice is stored once.
- :class:`DomainModel` / :class:`DomainScope`: rows of Waldo's (DevLake's) domain layer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, SecretStr
from sqlmodel import SQLModel
from sqlmodel.main import SQLModelMetaclass

from waldo._errors import PluginError

__all__ = [
    "Connection",
    "DomainModel",
    "DomainScope",
    "SecretStr",
    "ToolModel",
    "ToolScope",
]


class Connection(BaseModel):
    """How to reach a tool; a plugin subclasses it with its own fields.

    ``id`` tells two connections of one plugin apart in the store (their state, their
    tool rows); it defaults to 1, like the first connection created in DevLake.
    """

    model_config = ConfigDict(extra="ignore")

    id: int | str = 1
    name: str = ""
    proxy: str | None = None


class ToolScope(BaseModel):
    """A unit of collection within a connection: state and replacement are per scope."""

    model_config = ConfigDict(extra="allow")

    id: str = ""
    name: str = ""
    #: Filled in from the context's connection.
    connection_id: str | None = None


class _ToolModelMeta(SQLModelMetaclass):
    """Refuses a table tool model without a primary key, before SQLAlchemy's cryptic
    'could not assemble any primary key columns' error."""

    def __init__(cls, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kw: Any):
        config = getattr(cls, "model_config", {})
        if config.get("table"):
            fields = getattr(cls, "model_fields", {})
            if not any(getattr(f, "primary_key", None) is True for f in fields.values()):
                raise PluginError(
                    f"Tool model {name} has no primary key: declare one, e.g. "
                    "`id: str = Field(primary_key=True)` (extraction upserts by it)."
                )
        super().__init__(name, bases, namespace, **kw)


class ToolModel(SQLModel, metaclass=_ToolModelMeta):
    """A tool's record as extracted from its raw JSON; subclass with ``table=True``.

    The store keeps it in ``_tool_<plugin>_<__tablename__>`` with the connection id in
    front of the primary key and the raw row it came from.
    """


class DomainModel(BaseModel):
    """A row of a domain table; ``__tablename__`` names the table."""

    model_config = ConfigDict(extra="ignore")

    __tablename__: ClassVar[str] = ""

    def to_row(self) -> dict[str, Any]:
        """The row as the store writes it (dates stay datetimes; the store converts)."""
        return self.model_dump()


class DomainScope(DomainModel):
    """A domain row that stands for a tool scope (``cicd_scopes`` for CI/CD tools)."""

    id: str
    name: str | None = None


def parse_time(value: Any) -> datetime | None:
    """Tools' timestamps (ISO 8601 with ``Z``, epoch seconds) as aware datetimes."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, (int, float)):
        from datetime import timezone

        return datetime.fromtimestamp(value, tz=timezone.utc)
    text = str(value).replace("Z", "+00:00")
    return datetime.fromisoformat(text)
