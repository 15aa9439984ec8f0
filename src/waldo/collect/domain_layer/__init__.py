"""Waldo's domain layer for collectors: DevLake's domain models (``devops`` for CI/CD,
``crossdomain`` for users), each naming the store table it is written to."""

from __future__ import annotations

from waldo.collect.domain_layer import crossdomain, devops

__all__ = ["crossdomain", "devops"]
