"""The DPO command-line contract, in process: output, sentinel, separators, exit codes."""

from __future__ import annotations

import os
import re
import time
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from waldo.cli import app
from waldo.dpo import dpo

ISO_WITH_ZONE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")
OLD = time.time() - 3600


class Dpo:
    """Runs ``python -m waldo.dpo URL ...`` in process."""

    def __init__(self, url: str, cwd: Path) -> None:
        self.url = url
        self.cwd = cwd
        self.runner = CliRunner()

    def invoke(self, *args: str) -> Result:
        old = Path.cwd()
        os.chdir(self.cwd)
        try:
            return self.runner.invoke(dpo, [self.url, *args], catch_exceptions=False)
        finally:
            os.chdir(old)

    def __call__(self, *args: str) -> str:
        result = self.invoke(*args)
        assert result.exit_code == 0, result.output
        assert result.stderr == ""
        assert result.stdout.endswith("\n") or result.stdout == ""
        return result.stdout.rstrip("\n")


@pytest.fixture
def cli(tmp_path: Path) -> Dpo:
    return Dpo(f"sqlite:///{tmp_path / 'journal.db'}", tmp_path)


def models(base: Path, **files: str) -> Path:
    for name, text in files.items():
        path = base / name.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        os.utime(path, (OLD, OLD))
    return base


def assert_user_error(result: Result, pattern: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert re.search(pattern, lines[0]), lines[0]
    assert "Traceback" not in result.output


def test_the_whole_contract(cli: Dpo, tmp_path: Path) -> None:
    base = models(tmp_path / "m", **{"b.sql": "b", "a.sql": "a", "sub__c.sql": "c"})
    assert cli("get-last-successful-execution") == ""  # the sentinel: an empty line
    assert cli("get-execution-completion-timestamp", "") == ""
    execution = cli("init-execution")
    assert str(uuid.UUID(execution)) == execution
    step = cli("init-step", execution, "LOAD", str(base), "**/*.sql")
    assert str(uuid.UUID(step)) == step
    assert cli("compare-step-models", step, "") == "a,b,c"
    assert cli("compare-step-models", step, "NO_LAST_SUCCESSFUL_EXECUTION") == "a,b,c"
    assert cli("compare-step-models", "--separator", " ", step, "") == "a b c"
    assert cli("compare-step-models", "--separator", r"\n", step, "") == "a\nb\nc"
    assert cli("complete-step", step, "--rows-processed", str(2**63 - 1)) == ""
    assert cli("complete-execution", execution) == ""
    assert cli("get-last-successful-execution") == execution
    assert ISO_WITH_ZONE.match(cli("get-execution-completion-timestamp", execution))

    models(base, **{"a.sql": "changed"})
    (base / "b.sql").unlink()
    second = cli("init-execution")
    step2 = cli("init-step", second, "LOAD", str(base), "**/*.sql")
    assert cli("compare-step-models", step2, execution) == "a"
    assert cli("deleted-step-models", step2, execution) == "b"  # its own command
    gone = cli.invoke("compare-step-models", "--include-deleted", step2, execution)
    assert gone.exit_code == 2
    assert "deleted-step-models" in gone.stderr and len(gone.stderr.splitlines()) == 1
    models(base, **{"a.sql": "a"})
    unchanged = cli("init-execution")
    step3 = cli("init-step", unchanged, "LOAD", str(base), "**/*.sql")
    assert cli("compare-step-models", step3, execution) == ""  # nothing changed: empty line


def test_relative_base_path_and_positional_rows(cli: Dpo, tmp_path: Path) -> None:
    models(tmp_path / "load", **{"x.json": "{}"})
    execution = cli("init-execution")
    step = cli("init-step", execution, "LOAD", "./load", "*.json")
    assert cli("compare-step-models", step, "") == "x"
    assert cli("complete-step", step, "42") == ""  # the seed's positional form


def test_a_given_execution_id(cli: Dpo) -> None:
    given = str(uuid.uuid4())
    assert cli("init-execution", given.upper()) == given
    assert_user_error(cli.invoke("init-execution", given), "already exists")


@pytest.mark.parametrize(
    "args",
    [
        ["complete-execution", "not-a-uuid"],
        ["complete-step", "1234"],
        ["get-execution-completion-timestamp", "x"],
        ["compare-step-models", "zzz", ""],
        ["init-step", "bad", "LOAD", ".", "*"],
        ["init-execution", "bad-given-id"],
    ],
)
def test_malformed_ids_exit_2_with_one_line(cli: Dpo, args: list[str]) -> None:
    assert_user_error(cli.invoke(*args), "not a valid (execution|step) id")


@pytest.mark.parametrize(
    "command",
    [
        ["complete-execution"],
        ["get-execution-completion-timestamp"],
        ["complete-step"],
        ["compare-step-models", "PLACEHOLDER"],
    ],
)
def test_unknown_ids_exit_2_with_one_line(cli: Dpo, command: list[str]) -> None:
    unknown = str(uuid.uuid4())
    args = [unknown if a == "PLACEHOLDER" else a for a in command]
    if command[0] == "compare-step-models":
        step = unknown
        args = ["compare-step-models", step, ""]
    else:
        args = [*command, unknown]
    assert_user_error(cli.invoke(*args), "No (execution|step)")


def test_unknown_previous_execution_exits_2(cli: Dpo, tmp_path: Path) -> None:
    models(tmp_path / "m", **{"a.sql": "a"})
    execution = cli("init-execution")
    step = cli("init-step", execution, "LOAD", str(tmp_path / "m"), "*.sql")
    assert_user_error(cli.invoke("compare-step-models", step, str(uuid.uuid4())), "No execution")


def test_base_path_not_a_folder_exits_2(cli: Dpo, tmp_path: Path) -> None:
    models(tmp_path / "m", **{"a.sql": "a"})
    execution = cli("init-execution")
    assert_user_error(
        cli.invoke("init-step", execution, "LOAD", str(tmp_path / "m" / "a.sql"), "*"),
        "is not a folder",
    )
    assert_user_error(
        cli.invoke("init-step", execution, "LOAD", str(tmp_path / "nowhere"), "*"),
        "does not exist",
    )


def test_duplicate_model_names_exit_2_or_are_named_by_path(cli: Dpo, tmp_path: Path) -> None:
    base = models(tmp_path / "m", **{"x__orders.sql": "1", "y__orders.sql": "2"})
    execution = cli("init-execution")
    assert_user_error(
        cli.invoke("init-step", execution, "T", str(base), "**/*.sql"),
        "x/orders.sql and y/orders.sql",
    )
    step = cli("init-step", "--model-names", "path", execution, "T", str(base), "**/*.sql")
    assert cli("compare-step-models", step, "") == "x/orders.sql,y/orders.sql"


def test_rows_processed_is_a_bigint(cli: Dpo, tmp_path: Path) -> None:
    models(tmp_path / "m", **{"x.sql": "x"})
    execution = cli("init-execution")
    step = cli("init-step", execution, "LOAD", str(tmp_path / "m"), "*")
    too_big = cli.invoke("complete-step", step, "--rows-processed", str(2**63))
    assert too_big.exit_code == 2
    negative = cli.invoke("complete-step", step, "-5")
    assert negative.exit_code == 2


def test_waldo_dpo_is_the_same_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'j.db'}"
    runner = CliRunner()
    made = runner.invoke(app, ["--db", url, "dpo", "init-execution"])
    assert made.exit_code == 0, made.output
    execution = made.stdout.strip()
    done = runner.invoke(app, ["dpo", url, "complete-execution", execution])
    assert done.exit_code == 0, done.output
    last = runner.invoke(app, ["--db", url, "dpo", "get-last-successful-execution"])
    assert last.stdout.strip() == execution
    listed = runner.invoke(app, ["--db", url, "runs", "--format", "json"])
    assert '"kind": "dpo"' in listed.stdout and execution in listed.stdout
    bad = runner.invoke(app, ["--db", url, "dpo", "complete-execution", "nope"])
    assert_user_error(bad, "not a valid execution id")


def test_default_store_is_the_projects(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".waldo").mkdir()
    runner = CliRunner()
    made = runner.invoke(dpo, ["init-execution"])
    assert made.exit_code == 0, made.output
    assert (tmp_path / ".waldo" / "waldo.db").is_file()
    monkeypatch.setenv("WALDO_DB_URL", f"sqlite:///{tmp_path / 'env.db'}")
    runner.invoke(dpo, ["init-execution"])
    assert (tmp_path / "env.db").is_file()


def test_help_and_log_level(cli: Dpo) -> None:
    shown = CliRunner().invoke(dpo, ["--help"])
    assert shown.exit_code == 0
    for command in (
        "init-execution",
        "get-last-successful-execution",
        "get-execution-completion-timestamp",
        "get-execution-last-updated-timestamp",
        "init-step",
        "persist-models",
        "compare-step-models",
        "compare-models",
        "deleted-step-models",
        "complete-step",
        "complete-execution",
    ):
        assert command in shown.stdout
    quiet = CliRunner().invoke(dpo, [cli.url, "init-execution"])  # INFO, the seed's default
    assert quiet.exit_code == 0
    assert quiet.stderr == ""
    logged = CliRunner().invoke(dpo, ["--log-level", "DEBUG", cli.url, "init-execution"])
    assert logged.exit_code == 0
    assert str(uuid.UUID(logged.stdout.strip())) == logged.stdout.strip()  # stdout: id only
    assert "started" in logged.stderr
    wrong = CliRunner().invoke(dpo, ["--log-level", "LOUD", cli.url, "init-execution"])
    assert wrong.exit_code == 2


def test_unreachable_store_exits_1_with_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        dpo, ["postgresql://nobody@127.0.0.1:1/none", "get-last-successful-execution"]
    )
    assert result.exit_code == 1
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("error: Cannot reach the Waldo store")


def test_failed_flag(cli: Dpo, tmp_path: Path) -> None:
    models(tmp_path / "m", **{"x.sql": "x"})
    execution = cli("init-execution")
    step = cli("init-step", execution, "LOAD", str(tmp_path / "m"), "*")
    assert cli("complete-step", "--failed", step) == ""
    assert cli("complete-execution", "--failed", execution) == ""
    assert cli("get-last-successful-execution") == ""
