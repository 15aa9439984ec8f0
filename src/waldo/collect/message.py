"""Messages a plugin answers with, as in pydevlake (``import waldo.collect.message as msg``).

They are plain pydantic models, so the command line prints them as JSON.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

__all__ = ["PluginInfo", "RemoteScope", "RemoteScopeGroup", "StreamInfo", "TestConnectionResult"]


class RemoteScopeGroup(BaseModel):
    """A group of scopes a user browses to pick scopes from (an organisation, a folder)."""

    id: str
    name: str


class RemoteScope(BaseModel):
    """A scope offered by the tool, under a group."""

    id: str
    parent_id: str | None = None
    name: str
    data: dict[str, Any] = {}


class TestConnectionResult(BaseModel):
    """Whether the connection's parameters reach the tool, and why not."""

    __test__ = False  # not a pytest test class, despite the name

    success: bool
    message: str = ""


class StreamInfo(BaseModel):
    name: str
    tool_model: str
    tool_table: str
    raw_table: str
    domain_types: list[str]
    parent: str | None = None


class PluginInfo(BaseModel):
    """What a plugin is: its name, connection parameters and streams."""

    name: str
    description: str
    connection_schema: dict[str, Any]
    streams: list[StreamInfo]
