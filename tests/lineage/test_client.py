"""Building OpenLineage clients from options: a mistake is one ConfigError line."""

from __future__ import annotations

from pathlib import Path

import pytest

from waldo import ConfigError
from waldo.lineage import LiveLineage, client_from_config, make_client, run_uuid


@pytest.mark.parametrize(
    ("transport", "options", "message"),
    [
        ("file", {}, "file transport needs a path"),
        ("http", {}, "http transport needs a url"),
        ("kafka", {}, "Unknown OpenLineage transport 'kafka'"),
    ],
)
def test_bad_options_are_one_line(transport: str, options: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_client(transport, **options)


def test_config_paths_are_the_projects_and_secrets_come_from_credentials(tmp_path: Path) -> None:
    client = client_from_config({"transport": "file", "path": "out/ev.jsonl"}, tmp_path, {})
    assert client.transport.config.log_file_path == str(tmp_path / "out" / "ev.jsonl")
    client = client_from_config(
        {"transport": "http", "url": "http://lineage:5000", "credentials": "ol"},
        tmp_path,
        {"ol": {"api_key": "k"}},
    )
    assert client.transport.config.auth.get_bearer() == "Bearer k"
    assert client.transport.config.retry["total"] == 0  # live: one try, then give up
    with pytest.raises(ConfigError, match=r"credentials\.yml has no entry 'nope'"):
        client_from_config(
            {"transport": "http", "url": "http://x", "credentials": "nope"}, tmp_path, {}
        )


def test_live_events_without_a_run_are_ignored(tmp_path: Path) -> None:
    lineage = LiveLineage.from_config({"transport": "file", "path": "e.jsonl"}, tmp_path, {})
    lineage.node_started("n", ["a"], ["b"])  # no run started: nothing to attach it to
    lineage.run_finished("success")
    assert not (tmp_path / "e.jsonl").exists()


def test_run_ids_are_stable_uuids() -> None:
    assert run_uuid("r1") == run_uuid("r1") != run_uuid("r2")
    assert run_uuid("r1", "node") != run_uuid("r1")
