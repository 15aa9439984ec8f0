"""Waldo errors on the command line: one line on stderr, exit 2 for bad input, else 1.

Shared by every command group (``waldo``, ``waldo db``, ``waldo collect`` and a
collector plugin's own ``python main.py``), so each says what went wrong the same way.
"""

from __future__ import annotations

from typing import Any

import click

from waldo._errors import ConfigError, InvalidInput, RunNotFound, WaldoError


class WaldoCommandError(click.ClickException):
    """A Waldo error shown as one line: exit 2 for bad input, 1 for everything else."""

    def __init__(self, error: WaldoError) -> None:
        super().__init__(str(error))
        user_error = (RunNotFound, ConfigError, InvalidInput)
        self.exit_code = 2 if isinstance(error, user_error) else 1  # type: ignore[misc]

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


class WaldoGroup(click.Group):
    """A command group that turns Waldo errors into one-line messages, not tracebacks."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except WaldoError as exc:
            raise WaldoCommandError(exc) from exc
