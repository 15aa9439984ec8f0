"""``python -m dpo``: the seed's spelling of Waldo's DPO commands (:mod:`waldo.dpo`).

A script written for the Data Pipeline Orchestrator (``python -m dpo URL init-execution``)
runs unchanged against Waldo; the commands are those of ``dpo`` and ``waldo dpo``.
"""

from __future__ import annotations

from waldo.dpo import main

__all__ = ["main"]
