"""``waldo.yml`` checked against its schema: unknown keys and wrong types are one
warning each and ignored, strict mode makes them one error, every known key passes."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from waldo import ConfigError
from waldo.journal import resolve_settings
from waldo.journal._config import check_config
from waldo.journal._config_check import CACHE_FILE


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({"stirct": True}, ["unknown key `stirct`", "did you mean `strict`"]),
        ({"heartbeat_second": 3}, ["`heartbeat_second`", "did you mean `heartbeat_seconds`"]),
        ({"preflite": True}, ["`preflite`", "did you mean `preflight`"]),
        ({"notify": {"wen": ["failure"]}}, ["`wen` in `notify`", "did you mean `when`"]),
        ({"fingerprints": "banana"}, ["`fingerprints` must be true or false", "'banana'"]),
        ({"preflight": 17}, ["`preflight` must be true or false or a mapping", "not 17"]),
        ({"stats": {"max_rows": "many"}}, ["`stats.max_rows` must be a whole number", "'many'"]),
        ({"on_failure": "explode"}, ["`on_failure` must be one of warn, fail"]),
        ({"mask": "pw"}, ["`mask` must be a list of strings"]),
        ({"heartbeat_seconds": 0}, ["`heartbeat_seconds` must be greater than 0"]),
        ({"paths": [{"to": "x"}]}, ["`paths[0]` needs `from:`"]),
        ({"dolt": {}}, ["`dolt` needs `database:`"]),
    ],
)
def test_each_problem_is_named_in_one_line(raw: dict[str, Any], words: list[str]) -> None:
    check = check_config(raw)
    assert len(check.problems) == 1, check.problems
    [problem] = check.problems
    assert "\n" not in problem
    for word in words:
        assert word in problem
    assert check_config(check.usable(raw)).problems == []  # what is left is sound


def test_a_wrong_key_is_left_out_and_the_rest_kept() -> None:
    raw = {"stats": {"max_rows": "many"}, "strict": False, "preflight": {"inputs": False}}
    check = check_config(raw)
    assert check.usable(raw) == {"stats": {}, "strict": False, "preflight": {"inputs": False}}


def test_every_key_other_parts_of_waldo_read_is_accepted() -> None:
    raw = {
        "store": "sqlite:///x.db",
        "strict": False,
        "enabled": True,
        "spool_dir": "spool",
        "heartbeat_seconds": 2.5,
        "preflight": {"inputs": True, "commands": ["ruff check src"]},
        "fingerprints": {"libraries": False},
        "stats": {"max_rows": 1000},
        "notify": {
            "when": ["failure", "success"],
            "webhook": {"credentials": "team_hook"},
            "email": {
                "host": "smtp.example.com",
                "port": 587,
                "starttls": True,
                "from": "waldo@example.com",
                "to": ["team@example.com"],
                "credentials": "smtp",
            },
        },
        "paths": [{"from": "data/", "to": "/mnt/scratch/data/"}],
        "lineage": {
            "transport": "http",
            "url": "http://marquez:5000",
            "credentials": "openlineage",
            "namespace": "team",
            "timeout": 2,
            "retries": 1,
        },
        "dolt": {"database": "data/warehouse.db"},
        "branch": {"from": "git", "shared": ["raw_orders"]},
        "checks": {
            "orders": [{"expect_column_values_to_not_be_null": {"column": "id"}}],
            "raw_*": [{"suite": "raw"}, {"when": "pipeline_end", "suite": "late"}],
        },
        "on_failure": "fail",
        "static_site": {"path": "site", "keep": 20},
        "mask": ["*_salt", "db.user"],
    }
    assert check_config(raw).problems == []
    for short in ({"fingerprints": False}, {"preflight": True}, {"stats": False}):
        assert check_config(short).problems == []
    assert check_config({"branch": {"from": None}}).problems == []
    assert check_config({"notify": {True: ["failure"]}}).problems == []  # YAML's `on:`


def test_problems_warn_once_and_the_run_uses_the_defaults(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # values no other test uses: each warning is given once per process
    conf = {"stats": {"max_rows": "lots of"}, "heartbeat_seconds": "every so often", "hue": 1}
    with caplog.at_level(logging.WARNING, logger="waldo"):
        settings = resolve_settings(tmp_path, conf, environ={})
        resolve_settings(tmp_path, conf, environ={})
    warnings = [r.getMessage() for r in caplog.records if r.name == "waldo"]
    assert len(warnings) == 3, warnings  # each problem once, however often it is read
    assert any("stats.max_rows" in w for w in warnings)
    assert any("heartbeat_seconds" in w and "a number" in w for w in warnings)
    assert settings.heartbeat_seconds == 10.0
    assert settings.extra == {"stats": {}}


def test_strict_mode_turns_the_problems_into_one_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_settings(tmp_path, {"strict": True, "preflite": True, "stats": 5}, environ={})
    message = str(caught.value)
    assert "\n" not in message
    assert "preflite" in message and "`stats`" in message and "strict" in message
    with pytest.raises(ConfigError, match="stirct"):
        resolve_settings(tmp_path, {"stirct": True}, environ={"WALDO_STRICT": "1"})


def test_a_wrong_store_is_never_replaced_by_another(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="store"):
        resolve_settings(tmp_path, {"store": 17}, environ={})


def test_mask_names_reach_the_settings(tmp_path: Path) -> None:
    settings = resolve_settings(tmp_path, {"mask": ["*_salt"]}, environ={})
    assert settings.mask == ("*_salt",)


def test_an_unchanged_config_is_not_checked_again(tmp_path: Path) -> None:
    """The check is remembered in .waldo/ while waldo.yml is unchanged: a run then does
    not import pydantic (its models cost more than Waldo's own start-up)."""
    program = (
        "import logging, sys\n"
        "from waldo.journal import resolve_settings\n"
        "logging.basicConfig(format='%(message)s')\n"
        f"s = resolve_settings({str(tmp_path)!r}, {{'stirct': 1, 'stats': {{'max_rows': 5}}}},"
        " environ={})\n"
        "print(s.extra, 'pydantic' in sys.modules)\n"
    )

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", program], capture_output=True, text=True, timeout=120
        )

    first, second = run(), run()
    assert first.stdout.strip() == "{'stats': {'max_rows': 5}} True", first.stderr
    assert second.stdout.strip() == "{'stats': {'max_rows': 5}} False", second.stderr
    assert "did you mean `strict`" in first.stderr and first.stderr == second.stderr
    assert (tmp_path / ".waldo" / CACHE_FILE).is_file()
