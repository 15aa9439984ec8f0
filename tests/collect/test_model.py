"""Plugin definitions: tool models need a primary key, default extraction, contexts,
and the test kit's checks on every built-in plugin and the seed example."""

from __future__ import annotations

import sys

import pytest
from sqlmodel import Field

from tests.collect._helpers import ROOT
from waldo import InvalidInput, PluginError
from waldo.collect import Context, Plugin, Stream, Substream, ToolModel
from waldo.collect.plugins.dbt import DbtArtifacts
from waldo.collect.plugins.github import GitHubActions, GitHubConnection
from waldo.collect.plugins.waldo_runs import WaldoRuns
from waldo.collect.testing import ContextBuilder, assert_valid_plugin


class Aliased(ToolModel, table=True):
    __tablename__ = "_tool_test_aliased"

    id: str = Field(primary_key=True)
    full_name: str = Field(alias="FullName")
    email: str | None = None


class AliasedStream(Stream):
    tool_model = Aliased


def test_a_tool_model_without_primary_key_is_refused_clearly() -> None:
    with pytest.raises(PluginError, match=r"Tool model NoKey has no primary key: declare one"):

        class NoKey(ToolModel, table=True):
            __tablename__ = "_tool_test_nokey"
            name: str


def test_default_extract_takes_field_names_or_aliases() -> None:
    stream = AliasedStream("test")
    by_alias = stream.extract({"id": "1", "FullName": "Ada L", "email": "a@x", "other": 1})
    by_name = stream.extract({"id": "2", "full_name": "Bob"})
    assert (by_alias.id, by_alias.full_name, by_alias.email) == ("1", "Ada L", "a@x")
    assert (by_name.id, by_name.full_name, by_name.email) == ("2", "Bob", None)


def test_stream_and_table_names() -> None:
    stream = AliasedStream("test")
    assert stream.name == "aliased_stream"
    assert stream.raw_table_name == "_raw_test_aliased_stream"
    assert stream.tool_table_name == "_tool_test_aliased"


def test_a_substream_needs_its_parent() -> None:
    class Orphan(Substream):
        tool_model = Aliased

    with pytest.raises(PluginError, match="must set `parent_stream`"):
        Orphan("test")

    class Child(Substream):
        tool_model = Aliased
        parent_stream = AliasedStream

    class Backwards(Plugin):
        @property
        def streams(self) -> list[type[Stream]]:
            return [Child, AliasedStream]

    with pytest.raises(PluginError, match="must come after its parent stream aliased_stream"):
        Backwards().stream_instances()


def test_context_parsing_errors_are_one_line_input_errors() -> None:
    with pytest.raises(InvalidInput, match="not valid JSON"):
        Context.parse("{", GitHubConnection)
    with pytest.raises(InvalidInput, match=r"Bad context: connection.token: Field required"):
        Context.parse('{"db_url": "sqlite://", "connection": {}}', GitHubConnection)
    ctx = Context.parse('{"db_url": "sqlite://", "connection": {"token": "abc"}}', GitHubConnection)
    assert "abc" not in repr(ctx) and "abc" not in str(ctx.connection)
    assert ctx.incremental and ctx.scope.connection_id == "1"


def test_context_builder() -> None:
    ctx = ContextBuilder().connection(path="/tmp").scope("proj").full().build(DbtArtifacts)
    assert ctx.db_url == "sqlite+pysqlite:///:memory:"
    assert (ctx.scope_id, ctx.incremental) == ("proj", False)


@pytest.mark.parametrize("plugin", [GitHubActions, DbtArtifacts, WaldoRuns])
def test_built_in_plugins_are_valid(plugin: type[Plugin]) -> None:
    assert_valid_plugin(plugin)


def test_the_seed_example_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "examples" / "myplugin"))
    from myplugin.main import MyPlugin  # type: ignore[import-not-found]

    assert_valid_plugin(MyPlugin)
    for name in [m for m in sys.modules if m.startswith("myplugin")]:
        monkeypatch.delitem(sys.modules, name)


def test_public_names_exist_and_are_sorted() -> None:
    import waldo.collect
    import waldo.collect.api
    import waldo.collect.domain_layer.devops
    import waldo.collect.message
    import waldo.collect.model
    import waldo.collect.testing

    for module in (
        waldo.collect,
        waldo.collect.api,
        waldo.collect.message,
        waldo.collect.model,
        waldo.collect.testing,
    ):
        assert module.__all__ == sorted(module.__all__), module.__name__
        for name in module.__all__:
            assert hasattr(module, name), (module.__name__, name)
    for name in waldo.collect.domain_layer.devops.__all__:
        assert hasattr(waldo.collect.domain_layer.devops, name)
