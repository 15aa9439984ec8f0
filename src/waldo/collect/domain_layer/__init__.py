"""Waldo's domain layer for collectors: DevLake's domain models (``devops`` for CI/CD,
``code`` for repositories, commits and pull requests, ``crossdomain`` for users), each
naming the store table it is written to."""

from __future__ import annotations

from waldo.collect.domain_layer import code, crossdomain, devops

__all__ = ["code", "crossdomain", "devops"]
