"""Collectors: bring run metadata from other tools into Waldo's store (pydevlake's API).

A plugin (:class:`Plugin`) names a connection type and streams; each :class:`Stream`
collects raw records from a tool (often through an :class:`API` wrapper), extracts them
into a :class:`ToolModel` and converts those into domain models
(:mod:`waldo.collect.domain_layer`). Waldo stores all three layers and the streams'
incremental state; ``MyPlugin.start()`` (or ``waldo collect``) is the command line.

Porting a pydevlake plugin means replacing ``pydevlake`` by ``waldo.collect`` in its
imports.
"""

from __future__ import annotations

from waldo.collect import domain_layer, message
from waldo.collect.api import (
    API,
    LinkHeaderPaginator,
    PagedResponse,
    PageNumberPaginator,
    Paginator,
    Request,
    Response,
    TokenPaginator,
    request_hook,
    response_hook,
)
from waldo.collect.context import Context
from waldo.collect.model import (
    Connection,
    DomainModel,
    DomainScope,
    SecretStr,
    ToolModel,
    ToolScope,
)
from waldo.collect.plugin import Plugin
from waldo.collect.stream import DomainType, Stream, Substream

__all__ = [
    "API",
    "Connection",
    "Context",
    "DomainModel",
    "DomainScope",
    "DomainType",
    "LinkHeaderPaginator",
    "PageNumberPaginator",
    "PagedResponse",
    "Paginator",
    "Plugin",
    "Request",
    "Response",
    "SecretStr",
    "Stream",
    "Substream",
    "TokenPaginator",
    "ToolModel",
    "ToolScope",
    "domain_layer",
    "message",
    "request_hook",
    "response_hook",
]
