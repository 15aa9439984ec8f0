"""OpenLineage clients over the official transports: file, console, http.

Waldo builds the transport itself from a few plain options (the command line's or
``lineage:`` in ``waldo.yml``) instead of the client's own environment lookup, so the
same words configure both and a mistake is one ConfigError line.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from openlineage.client import OpenLineageClient
from openlineage.client.transport.console import ConsoleConfig, ConsoleTransport
from openlineage.client.transport.file import FileConfig, FileTransport
from openlineage.client.transport.http import ApiKeyTokenProvider, HttpConfig, HttpTransport

from waldo._errors import ConfigError

TransportName = Literal["file", "console", "http"]
TRANSPORTS: tuple[TransportName, ...] = ("file", "console", "http")


def make_client(
    transport: str,
    *,
    url: str | None = None,
    endpoint: str | None = None,
    path: Path | str | None = None,
    api_key: str | None = None,
    timeout: float = 5.0,
    retries: int = 5,
) -> OpenLineageClient:
    """A client whose events go to a file (one JSON event a line), the log, or HTTP
    (``retries`` tries more on a connection error or a 5xx answer, with back-off)."""
    if transport == "file":
        if not path:
            raise ConfigError("The OpenLineage file transport needs a path (--path or `path:`).")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        chosen: Any = FileTransport(FileConfig(log_file_path=str(path), append=True))
    elif transport == "console":
        chosen = ConsoleTransport(ConsoleConfig())
    elif transport == "http":
        if not url:
            raise ConfigError("The OpenLineage http transport needs a url (--url or `url:`).")
        config = HttpConfig(url=url, endpoint=endpoint or "api/v1/lineage", timeout=timeout)
        config.retry = {**config.retry, "total": retries, "read": retries, "connect": retries}
        if api_key:
            config.auth = ApiKeyTokenProvider({"apiKey": api_key})
        chosen = HttpTransport(config)
    else:
        raise ConfigError(
            f"Unknown OpenLineage transport {transport!r}: use one of {', '.join(TRANSPORTS)}."
        )
    return OpenLineageClient(transport=chosen)


def client_from_config(
    config: Mapping[str, Any], project_path: Path, credentials: Mapping[str, Any]
) -> OpenLineageClient:
    # Live, during a run: one try per event by default (``retries:`` to change), so a
    # dead server costs one timeout, not minutes of back-off.
    """The client ``lineage:`` in ``waldo.yml`` asks for (a relative path is the
    project's; ``credentials: NAME`` takes ``api_key`` from credentials.yml)."""
    path = config.get("path")
    if path and not Path(str(path)).is_absolute():
        path = project_path / str(path)
    api_key = config.get("api_key")
    secret = config.get("credentials")
    if isinstance(secret, str):
        entry = credentials.get(secret)
        if not isinstance(entry, Mapping):
            raise ConfigError(f"lineage: credentials.yml has no entry '{secret}'.")
        api_key = entry.get("api_key") or entry.get("apiKey")
    return make_client(
        str(config.get("transport", "http")),
        url=config.get("url"),
        endpoint=config.get("endpoint"),
        path=path,
        api_key=api_key,
        timeout=float(config.get("timeout", 5.0)),
        retries=int(config.get("retries", 0)),
    )
