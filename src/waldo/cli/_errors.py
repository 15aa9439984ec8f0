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


class OneLineUsageError(click.UsageError):
    """A mistyped command line (a bad option value, an unknown option) as one line,
    with where to find help, instead of click's usage block; exit 2."""

    def __init__(self, error: click.UsageError) -> None:
        super().__init__(error.format_message(), error.ctx)

    def show(self, file: Any = None) -> None:
        hint = f" (`{self.ctx.command_path} -h` for help)" if self.ctx is not None else ""
        click.echo(f"error: {self.format_message()}{hint}", err=True)


def _one_line(error: click.UsageError) -> click.UsageError:
    if isinstance(error, (OneLineUsageError, click.exceptions.NoArgsIsHelpError)):
        return error  # already one line, or `waldo` alone: the help
    return OneLineUsageError(error)


class WaldoGroup(click.Group):
    """A command group that turns Waldo errors and mistyped options into one-line
    messages, not tracebacks or usage blocks."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            raise _one_line(exc) from exc

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except WaldoError as exc:
            raise WaldoCommandError(exc) from exc
        except click.UsageError as exc:
            raise _one_line(exc) from exc
