"""Execution and step tracking for any pipeline: the DPO commands.

``dpo ...`` (also ``python -m dpo``, the seed's spelling), ``python -m waldo.dpo ...``
and ``waldo dpo ...`` let a shell, SQL or dbt pipeline
record its executions and steps in the Waldo journal and ask which of its model files
changed since the last successful execution. See :mod:`waldo.dpo._commands` for the
command-line contract.
"""

from __future__ import annotations

from waldo.dpo._commands import dpo, main, script_main

__all__ = ["dpo", "main", "script_main"]
