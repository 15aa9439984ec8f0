#!/usr/bin/env python3

from typing import Type, Iterable
from waldo.collect import Plugin, Connection
import waldo.collect.message as msg
from waldo.collect.model import ToolScope, DomainScope, Connection

from myplugin.streams.users import Users
from myplugin.streams.user_comments import UserComments


class MyPluginConnection(Connection):
    url: str
    token: str = ""


class MyPlugin(Plugin):
    @property
    def connection_type(self):
        return MyPluginConnection

    def test_connection(self, connection: MyPluginConnection):
        pass

    @property
    def streams(self):
        return [Users, UserComments]

    def domain_scopes(self, tool_scope: ToolScope) -> Iterable[DomainScope]:
        pass

    def remote_scopes(self, connection: Connection, group_id: str) -> list[ToolScope]:
        pass

    def remote_scope_groups(self, connection: Connection) -> list[msg.RemoteScopeGroup]:
        pass

    @property
    def tool_scope_type(self) -> Type[ToolScope]:
        pass


if __name__ == '__main__':
    MyPlugin.start()
