"""Waldo's one error tree.

Every error Waldo raises on purpose derives from :class:`WaldoError`, so a caller (and
the command line) can catch them all in one place and print a one-line message.
Foreign errors (SQLAlchemy, OS, YAML) are translated at the boundary where they occur
with ``raise ... from exc`` so the original stays available for debugging.
"""

from __future__ import annotations


class WaldoError(Exception):
    """Base of every error Waldo raises on purpose; its message is meant for a user."""


class ConfigError(WaldoError):
    """The configuration is wrong: a bad URL, a missing credentials entry, bad YAML."""


class StoreError(WaldoError):
    """Something went wrong talking to the journal's database."""


class StoreUnavailable(StoreError):
    """The database cannot be reached right now (down, refused, disk full)."""


class MigrationError(StoreError):
    """The schema could not be created or migrated."""


class RunNotFound(WaldoError):
    """A run id that the journal does not know."""


class SpoolError(WaldoError):
    """The local spool of unwritten rows could not be read or written."""


class InvalidInput(WaldoError):
    """A command argument is malformed: a base path that is not a folder, a bad pattern."""


class InvalidId(InvalidInput):
    """An execution or step id that is not a UUID."""


class ExecutionNotFound(RunNotFound):
    """An execution id (a run of kind ``dpo``) that the journal does not know."""


class StepNotFound(WaldoError):
    """A step id (a node run of a DPO execution) that the journal does not know."""


class ExecutionStateError(WaldoError):
    """The execution's state does not allow it: a step of a completed execution, a step
    name used twice in one execution, the completion time of a running execution."""


class Unfingerprintable(WaldoError):
    """A value Waldo cannot fingerprint (it then counts as changed)."""


class ContextNotFound(InvalidInput):
    """A results context (an id, an algorithm or ``RUN:ALGORITHM``) that names nothing."""


class CollectorError(WaldoError):
    """A collector failed: its plugin, its context, or the tool it collects from."""


class PluginError(CollectorError, TypeError):
    """A collector plugin is written wrong: a tool model without a primary key, a
    substream without a parent stream, two streams with one name."""


class ApiError(CollectorError):
    """The tool's API could not be reached or kept failing after the allowed retries."""


class ApiAuthError(ApiError):
    """The tool's API refused the credentials (HTTP 401 or 403)."""
