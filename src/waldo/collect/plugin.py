"""The plugin: a tool's connection type, its streams and its scopes (pydevlake's API).

A plugin is a class; ``MyPlugin.start()`` is its command line (``python main.py
--help``), and the same commands are available as ``waldo collect <plugin> ...`` once
the plugin is registered under the ``waldo.collectors`` entry point group.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, ClassVar

from waldo._errors import InvalidInput, PluginError
from waldo.collect import message as msg
from waldo.collect.model import Connection, DomainScope, ToolScope
from waldo.collect.stream import Stream, Substream

__all__ = ["Plugin"]


class Plugin:
    """Base of a collector plugin; override the properties and methods that apply."""

    #: The plugin's name in table names and on the command line (default: the class
    #: name in lower case, ``MyPlugin`` -> ``myplugin``).
    name: ClassVar[str] = ""
    description: ClassVar[str] = ""

    def __init__(self) -> None:
        if not type(self).name:
            type(self).name = type(self).__name__.lower()
        self._streams: dict[str, Stream] | None = None

    # -- what a plugin declares ------------------------------------------------------
    @property
    def connection_type(self) -> type[Connection]:
        return Connection

    def test_connection(self, connection: Any) -> Any:
        """Raise (or return a failed TestConnectionResult) when ``connection`` is wrong."""
        return None

    @property
    def streams(self) -> list[type[Stream]]:
        return []

    def domain_scopes(self, tool_scope: ToolScope) -> Iterable[DomainScope]:
        return ()

    def remote_scopes(self, connection: Any, group_id: str) -> list[ToolScope]:
        return []

    def remote_scope_groups(self, connection: Any) -> list[msg.RemoteScopeGroup]:
        return []

    @property
    def tool_scope_type(self) -> type[ToolScope] | None:
        return ToolScope

    # -- what the framework derives --------------------------------------------------
    def stream_instances(self) -> dict[str, Stream]:
        """The plugin's streams by name, parents before their substreams."""
        if self._streams is None:
            found: dict[str, Stream] = {}
            for stream_type in self.streams or []:
                stream = stream_type(self.name)
                if stream.name in found:
                    raise PluginError(f"Plugin {self.name} has two streams named {stream.name}.")
                if isinstance(stream, Substream):
                    parent = stream.parent_stream(self.name).name
                    if parent not in found:
                        raise PluginError(
                            f"Substream {stream.name} must come after its parent stream "
                            f"{parent} in {type(self).__name__}.streams."
                        )
                found[stream.name] = stream
            self._streams = found
        return self._streams

    def get_stream(self, name: str) -> Stream:
        streams = self.stream_instances()
        if name not in streams:
            known = ", ".join(streams) or "none"
            raise InvalidInput(f"Plugin {self.name} has no stream '{name}' (streams: {known}).")
        return streams[name]

    def scope_type(self) -> type[ToolScope]:
        return self.tool_scope_type or ToolScope

    def plugin_info(self) -> msg.PluginInfo:
        return msg.PluginInfo(
            name=self.name,
            description=self.description or (type(self).__doc__ or "").strip(),
            connection_schema=self.connection_type.model_json_schema(),
            streams=[
                msg.StreamInfo(
                    name=s.name,
                    tool_model=s.tool_model.__name__,
                    tool_table=s.tool_table_name,
                    raw_table=s.raw_table_name,
                    domain_types=[d.value for d in s.domain_types],
                    parent=s.parent_stream(self.name).name if isinstance(s, Substream) else None,
                )
                for s in self.stream_instances().values()
            ],
        )

    @classmethod
    def start(cls, argv: list[str] | None = None) -> Any:
        """Run the plugin's command line (``if __name__ == '__main__': MyPlugin.start()``)."""
        from waldo.collect._cli import plugin_cli

        prog = sys.argv[0] if argv is None else cls.__name__
        return plugin_cli(cls).main(args=argv, prog_name=prog)
