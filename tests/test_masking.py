"""Passwords in store URLs never reach text: every URL form, in every message of the
command line, the store's errors, the settings' repr and a ``kedro run``'s output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.helpers.cli import run_waldo as waldo
from tests.helpers.journal import record_run, recorder_for
from tests.helpers.postgres import fresh_database
from tests.kedro._e2e import subprocess_env
from waldo import ConfigError, StoreError
from waldo._masking import looks_secret, mask_text, mask_url
from waldo.cli import app
from waldo.journal import resolve_settings
from waldo.store import Spool, Store, parse_store_url

# Every password holds SECRET, and the unmasked pieces a broken parse would show.
UNREACHABLE = [
    "postgresql://:Pw7SECRET@127.0.0.1:1/x",
    "postgresql://u@127.0.0.1:1/x?password=Pw7SECRET",
    "postgresql://u@127.0.0.1:1/x?sslmode=disable&password=Pw7SECRET&application_name=w",
    "postgresql://u:Pw7 spaceSECRET@127.0.0.1:1/x",
    "postgresql://u:Pw7@atSECRET@127.0.0.1:1/x",
    "postgresql://u:Pw7%40encodedSECRET@127.0.0.1:1/x",
    "postgres://u:Pw7SECRET@127.0.0.1:notaport/x",
    "postgresql:/u:Pw7SECRET@127.0.0.1/x",
]


def hidden(text: str) -> bool:
    return "SECRET" not in text and "Pw7" not in text


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:pw@h:5432/db", "postgresql://u:***@h:5432/db"),
        ("postgresql://:pw@h/db", "postgresql://:***@h/db"),
        ("postgresql://u@h/db?password=pw", "postgresql://u@h/db?password=***"),
        ("postgresql://u:p w@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u:p@w@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u@h/db?sslpassword=pw&x=1", "postgresql://u@h/db?sslpassword=***&x=1"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("postgresql://u:pw@h/db?options=a@b", "postgresql://u:***@h/db?options=a@b"),
        ("sqlite:////tmp/a@b/waldo.db", "sqlite:////tmp/a@b/waldo.db"),
        ("sqlite:///.waldo/waldo.db", "sqlite:///.waldo/waldo.db"),
        ("host=h password=pw dbname=d", "host=h password=*** dbname=d"),
        ("postgresql:/u:pw@h/db", "postgresql:/u:***@h/db"),  # too broken to parse
    ],
)
def test_mask_url_hides_every_form_of_password(url: str, shown: str) -> None:
    assert mask_url(url) == shown


def test_mask_text_hides_a_urls_secrets_wherever_they_appear() -> None:
    url = "postgresql://u:Pw7 spaceSECRET@h/db"
    message = f'could not connect to {url}: auth failed for "Pw7 spaceSECRET"'
    assert hidden(mask_text(message, [url]))
    assert hidden(mask_text("see postgresql://u:Pw7@atSECRET@h/db, token=Pw7SECRET"))


def test_secret_names() -> None:
    for name in ("password", "db_password", "dbPassword", "API_KEY", "apiKey", "hf_token"):
        assert looks_secret(name), name
    for name in ("client_secret", "credentials", "key", "aws_secret_access_key"):
        assert looks_secret(name), name
    for name in ("factor", "max_tokens", "tokenizer", "passenger_count", "monkey", "author"):
        assert not looks_secret(name), name
    assert looks_secret("model_salt", ["*_salt"]) and not looks_secret("model_salt")


@pytest.mark.parametrize("url", UNREACHABLE)
def test_store_errors_and_settings_never_show_the_password(url: str, tmp_path: Path) -> None:
    try:
        parse_store_url(url)
        store = Store(url)
        assert hidden(repr(store)) and hidden(store.display_url)
        with pytest.raises(StoreError) as caught:
            store.ping()
        error: Exception = caught.value
    except ConfigError as exc:  # a URL that can never work: refused as it is read
        error = exc
    assert hidden(str(error)), error
    try:
        settings = resolve_settings(tmp_path, {"store": url}, environ={})
    except ConfigError as exc:
        assert hidden(str(exc))
    else:
        assert hidden(repr(settings))


COMMANDS = [
    ("runs",),
    ("show", "latest"),
    ("diff", "a", "b"),
    ("sync",),
    ("db", "current"),
    ("db", "upgrade"),
    ("serve", "--port", "0"),
    ("report", "latest"),
    ("results", "contexts"),
    ("export", "openlineage"),
    ("dpo", "init-execution"),
]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose spool holds rows of another store (`waldo sync` names ours)."""
    root = tmp_path_factory.mktemp("project")
    record_run(recorder_for("postgresql://postgres@127.0.0.1:1/other", root), "spooled")
    assert Spool(root / ".waldo" / "spool").count_pending_records() > 0
    return root


@pytest.mark.parametrize("url", UNREACHABLE)
def test_no_command_shows_the_password(
    url: str, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    for args in COMMANDS:
        for how in ("--db", "WALDO_DB_URL"):
            if how == "--db":
                done = CliRunner().invoke(app, ["--db", url, *args], env={"WALDO_DB_URL": None})
            else:
                done = CliRunner().invoke(app, list(args), env={"WALDO_DB_URL": url})
            output = done.stdout + done.stderr
            assert hidden(output), (args, how, output)
            assert isinstance(done.exception, (SystemExit, type(None))), done.exception
            if done.exit_code != 0:
                assert output.strip().startswith("error: "), output
        if args == ("sync",):
            assert "belong to another store" in output or done.exit_code == 2
    done = waldo("--db", url, "runs", cwd=project)  # once as a user types it
    assert done.returncode in (1, 2) and hidden(done.stderr), done.stderr


@pytest.mark.postgres
def test_messages_of_a_reachable_store_never_show_the_password(
    pg_server: str, tmp_path: Path
) -> None:
    """PostgreSQL here trusts local connections: a URL with a password works, so the
    messages of success (migrated, current revision, serving, synced) are seen too."""
    with fresh_database(pg_server) as plain:
        parsed = parse_store_url(plain)
        base = f"postgresql://{parsed.username}:Pw7 spaceSECRET@{parsed.host}:{parsed.port}"
        for url in (
            f"{base}/{parsed.database}",
            f"postgresql://{parsed.username}@{parsed.host}:{parsed.port}/{parsed.database}"
            "?password=Pw7SECRET",
        ):
            for args in (("db", "upgrade"), ("db", "current"), ("runs",), ("sync",)):
                done = waldo("--db", url, *args, cwd=tmp_path)
                assert done.returncode == 0, done.stderr
                assert hidden(done.stdout + done.stderr), done.stdout + done.stderr
            assert "***" in waldo("--db", url, "db", "current", cwd=tmp_path).stdout
            server = subprocess.Popen(
                [sys.executable, "-m", "waldo.cli", "--db", url, "serve", "--port", "0"],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                env=subprocess_env(),
            )
            try:
                assert server.stdout is not None
                first = server.stdout.readline()
            finally:
                server.terminate()
                server.wait(timeout=60)
            assert "Waldo is serving postgresql://" in first and hidden(first), first
