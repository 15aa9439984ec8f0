"""Where the journal lives: WALDO_DB_URL > waldo.yml > credentials > default SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest

from waldo._errors import ConfigError
from waldo.journal import needs_credentials, resolve_settings

ENV_URL = "postgresql://env@host/envdb"
YML_URL = "sqlite:///from-yml.db"
NAMED_URL = "postgresql://named:pw@host/named"
SEED_URL = "postgresql://seed:pw@host/seed"

CREDENTIALS = {
    "waldo_db": NAMED_URL,
    "waldo_map": {"con": NAMED_URL + "_map"},
    "postgres": {"con": SEED_URL},
}


def test_environment_variable_wins_over_everything(tmp_path: Path) -> None:
    settings = resolve_settings(
        tmp_path, {"store": YML_URL}, CREDENTIALS, environ={"WALDO_DB_URL": ENV_URL}
    )
    assert settings.store_url == ENV_URL
    assert "WALDO_DB_URL" in settings.source


def test_waldo_yml_url_wins_over_credentials(tmp_path: Path) -> None:
    settings = resolve_settings(tmp_path, {"store": YML_URL}, CREDENTIALS, environ={})
    assert (settings.store_url, settings.source) == (YML_URL, "waldo.yml")


def test_store_naming_a_string_credentials_entry(tmp_path: Path) -> None:
    settings = resolve_settings(tmp_path, {"store": "waldo_db"}, CREDENTIALS, environ={})
    assert settings.store_url == NAMED_URL
    assert settings.source == "credentials entry 'waldo_db'"


def test_store_naming_a_mapping_credentials_entry_with_con(tmp_path: Path) -> None:
    settings = resolve_settings(tmp_path, {"store": "waldo_map"}, CREDENTIALS, environ={})
    assert settings.store_url == NAMED_URL + "_map"


def test_seed_postgres_con_when_no_store_is_configured(tmp_path: Path) -> None:
    settings = resolve_settings(tmp_path, {}, CREDENTIALS, environ={})
    assert settings.store_url == SEED_URL
    assert settings.source == "credentials entry 'postgres'"


def test_default_is_a_sqlite_file_in_the_project(tmp_path: Path) -> None:
    settings = resolve_settings(tmp_path, None, None, environ={})
    assert settings.store_url == f"sqlite:///{tmp_path.resolve() / '.waldo' / 'waldo.db'}"
    assert settings.source == "default"
    assert settings.spool_dir == tmp_path.resolve() / ".waldo" / "spool"
    # an empty WALDO_DB_URL counts as unset
    assert resolve_settings(tmp_path, environ={"WALDO_DB_URL": ""}).source == "default"


def test_missing_credentials_entry_is_a_one_line_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_settings(tmp_path, {"store": "team_db"}, {"other": "x"}, environ={})
    message = str(info.value)
    assert "\n" not in message
    assert "'team_db'" in message
    assert "credentials" in message


def test_credentials_entry_without_a_url_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'waldo_db'"):
        resolve_settings(tmp_path, {"store": "waldo_db"}, {"waldo_db": {"user": "u"}}, environ={})


def test_options_strict_disabled_heartbeat_and_relative_spool(tmp_path: Path) -> None:
    settings = resolve_settings(
        tmp_path,
        {"strict": "true", "heartbeat_seconds": 2, "spool_dir": "spool-here", "stats": False},
        environ={"WALDO_DISABLE": "1"},
    )
    assert settings.strict is True
    assert settings.enabled is False
    assert settings.lease_seconds == 2 * 3 + 5
    assert settings.spool_dir == tmp_path.resolve() / "spool-here"
    assert settings.extra == {"stats": False}
    with pytest.raises(ConfigError, match="heartbeat_seconds"):
        resolve_settings(tmp_path, {"heartbeat_seconds": "often", "strict": True}, environ={})


@pytest.mark.parametrize(
    ("waldo_conf", "environ", "needed"),
    [
        ({}, {}, True),  # the seed's `postgres: con:` may be there
        ({"store": "warehouse"}, {}, True),  # a credentials entry's name
        ({"store": "postgresql://u@h/db"}, {}, False),
        ({"store": "sqlite:///j.db"}, {}, False),
        ({}, {"WALDO_DB_URL": "sqlite:///j.db"}, False),
    ],
)
def test_credentials_are_read_only_when_they_can_name_the_store(
    tmp_path: Path, waldo_conf: dict[str, str], environ: dict[str, str], needed: bool
) -> None:
    assert needs_credentials(waldo_conf, environ) is needed
    if not needed:  # and then resolving without them gives the same store
        creds = {"postgres": {"con": "postgresql://other@h/db"}}
        with_creds = resolve_settings(tmp_path, waldo_conf, creds, environ=environ)
        assert resolve_settings(tmp_path, waldo_conf, {}, environ=environ) == with_creds
