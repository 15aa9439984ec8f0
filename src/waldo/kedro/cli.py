"""``kedro waldo ...``: the Waldo command line inside a Kedro project."""

from __future__ import annotations

import click

from waldo.cli import app


@click.group(name="Waldo")
def commands() -> None:
    """Waldo commands for a Kedro project."""


commands.add_command(app, name="waldo")
