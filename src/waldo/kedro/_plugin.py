"""What Kedro loads through Waldo's entry points: the hooks and the ``kedro waldo`` group.

Kedro imports every plugin's entry points when it starts (``kedro --help`` and
``kedro run`` alike), so this module imports nothing of Waldo's own machinery: each
hooks object imports its module (``waldo.kedro.hooks``, ``waldo.kedro.dolt``) on its
first call and passes every call on, and the ``waldo`` command imports the command line
(``waldo.cli``) only when it is run or asked for its help. Each hook below has the
name, parameters and options of the hook it stands for (a test keeps them equal).
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

import click
from kedro.framework.hooks import hook_impl

__all__ = ["commands", "dolt_hooks", "hooks"]


def _load(reference: str) -> Any:
    """The object an entry point reference (``module:name``) names, imported now."""
    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)


class _Deferred:
    """Hooks that import the object they stand for on their first call."""

    target = ""

    @functools.cached_property
    def _hooks(self) -> Any:
        return _load(self.target)


class WaldoHooksEntry(_Deferred):
    """The recording hooks, :data:`waldo.kedro.hooks.hooks`."""

    target = "waldo.kedro.hooks:hooks"

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self._hooks.after_context_created(context)

    @hook_impl
    def after_catalog_created(
        self, catalog: Any, conf_catalog: dict[str, Any], conf_creds: dict[str, Any]
    ) -> None:
        self._hooks.after_catalog_created(catalog, conf_catalog, conf_creds)

    @hook_impl
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Any, catalog: Any = None
    ) -> None:
        self._hooks.before_pipeline_run(run_params, pipeline, catalog)

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any]) -> None:
        self._hooks.after_pipeline_run(run_params)

    @hook_impl
    def on_pipeline_error(self, error: Exception, run_params: dict[str, Any]) -> None:
        self._hooks.on_pipeline_error(error, run_params)

    @hook_impl
    def before_dataset_loaded(self, dataset_name: str, node: Any) -> None:
        self._hooks.before_dataset_loaded(dataset_name, node)

    @hook_impl
    def after_dataset_loaded(self, dataset_name: str, data: Any, node: Any) -> None:
        self._hooks.after_dataset_loaded(dataset_name, data, node)

    @hook_impl
    def before_node_run(
        self, node: Any, catalog: Any = None, inputs: dict[str, Any] | None = None
    ) -> None:
        self._hooks.before_node_run(node, catalog, inputs)

    @hook_impl
    def after_node_run(self, node: Any, outputs: dict[str, Any]) -> None:
        self._hooks.after_node_run(node, outputs)

    @hook_impl
    def on_node_error(self, error: Exception, node: Any) -> None:
        self._hooks.on_node_error(error, node)

    @hook_impl
    def before_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        self._hooks.before_dataset_saved(dataset_name, data, node)

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        self._hooks.after_dataset_saved(dataset_name, data, node)


class DoltHooksEntry(_Deferred):
    """The Dolt branch hooks, :data:`waldo.kedro.dolt.dolt_hooks`."""

    target = "waldo.kedro.dolt:dolt_hooks"

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self._hooks.after_context_created(context)

    @hook_impl
    def after_catalog_created(
        self, catalog: Any, conf_catalog: dict[str, Any], conf_creds: dict[str, Any]
    ) -> None:
        self._hooks.after_catalog_created(catalog, conf_catalog, conf_creds)

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        self._hooks.before_pipeline_run(run_params, pipeline, catalog)

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any]) -> None:
        self._hooks.after_pipeline_run(run_params)

    @hook_impl
    def on_pipeline_error(self, error: Exception, run_params: dict[str, Any]) -> None:
        self._hooks.on_pipeline_error(error, run_params)


hooks = WaldoHooksEntry()
dolt_hooks = DoltHooksEntry()


class DeferredCommand(click.Group):
    """A command listed by its short help; its module is imported when it is invoked,
    completed or asked for its own help (the context it makes is the real command's)."""

    def __init__(self, name: str, target: str, short_help: str) -> None:
        super().__init__(name=name, short_help=short_help)
        self.target = target

    @functools.cached_property
    def command(self) -> click.Command:
        command: click.Command = _load(self.target)
        return command

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        return self.command.make_context(info_name, args, parent=parent, **extra)

    def list_commands(self, ctx: click.Context) -> list[str]:
        command = self.command
        return command.list_commands(ctx) if isinstance(command, click.Group) else []

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = self.command
        return command.get_command(ctx, cmd_name) if isinstance(command, click.Group) else None


@click.group(name="Waldo")
def commands() -> None:
    """Waldo commands for a Kedro project."""


commands.add_command(
    DeferredCommand(
        "waldo", "waldo.cli:app", short_help="Waldo: the flight recorder of your data pipelines."
    )
)
