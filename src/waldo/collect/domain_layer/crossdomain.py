"""Cross-domain models: people (DevLake's ``users``)."""

from __future__ import annotations

from typing import ClassVar

from waldo.collect.model import DomainModel

__all__ = ["User"]


class User(DomainModel):
    """A person, whatever tool they were seen in."""

    __tablename__: ClassVar[str] = "users"

    id: str
    name: str | None = None
    email: str | None = None
