"""The seed's integration scenario, replayed through ``python -m waldo.dpo`` subprocesses.

Two executions with LOAD and TRANSFORM steps, as in the seed's
``tests/integration/test_integration.sh``: the first sees every model as new; before
the second, no LOAD model changes, one TRANSFORM model is modified, one deleted and one
added. Run against real PostgreSQL (the seed's database) and SQLite.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.helpers.postgres import fresh_database

ISO_WITH_ZONE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d$")


class DpoProcess:
    def __init__(self, url: str, cwd: Path) -> None:
        self.url = url
        self.cwd = cwd
        self.env = {k: v for k, v in os.environ.items() if k != "WALDO_DB_URL"}

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "waldo.dpo", self.url, *args],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def __call__(self, *args: str) -> str:
        done = self.run(*args)
        assert done.returncode == 0, done.stderr
        assert done.stderr == "", done.stderr
        return done.stdout.strip("\n")


def seed_scenario(dpo: DpoProcess, models: Path) -> None:
    load, transform = models / "load", models / "transform"
    load.mkdir(parents=True)
    transform.mkdir(parents=True)
    names = {key: f"{key}_{uuid.uuid4()}" for key in ("l1", "l2", "t1", "t2", "t3", "t4")}
    (load / f"{names['l1']}.json").write_text("load_model_1\n")
    (load / f"{names['l2']}.json").write_text("load_model_2\n")
    (transform / f"{names['t1']}.csv").write_text("transform_model_1\n")
    (transform / f"{names['t2']}.sql").write_text("transform_model_2\n")
    (transform / f"{names['t3']}.sql").write_text("transform_model_3\n")
    load_patterns = ("**/*.json",)
    patterns = ("**/*.csv", "**/*.sql")

    def execute(expected_last: str, expected_load: list[str], expected_transform: list[str]) -> str:
        execution = dpo("init-execution")
        assert len(execution) == 36
        last = dpo("get-last-successful-execution")
        assert last == expected_last
        stamp = dpo("get-execution-completion-timestamp", last)
        assert stamp == "" if not last else ISO_WITH_ZONE.match(stamp)

        load_step = dpo("init-step", execution, "LOAD", "./models/load", *load_patterns)
        changed_load = dpo("compare-step-models", load_step, last)
        assert changed_load == ",".join(sorted(expected_load))
        dpo("complete-step", load_step, "--rows-processed", "1000")

        transform_step = dpo("init-step", execution, "TRANSFORM", str(transform), *patterns)
        changed_transform = dpo("compare-step-models", transform_step, last)
        assert changed_transform == ",".join(sorted(expected_transform))
        dpo("complete-step", transform_step, str(2**63 - 1))

        dpo("complete-execution", execution)
        assert dpo("get-last-successful-execution") == execution
        return execution

    # Execution 1: everything is new.
    first = execute("", [names["l1"], names["l2"]], [names["t1"], names["t2"], names["t3"]])

    # Execution 2: LOAD unchanged; t2 modified, t3 deleted, t4 added.
    (transform / f"{names['t2']}.sql").write_text("Modified transform_model_2\n")
    (transform / f"{names['t3']}.sql").unlink()
    (transform / f"{names['t4']}.sql").write_text("transform_model_4\n")
    second = execute(first, [], [names["t2"], names["t4"]])

    # What the seed could not tell: the deleted model, and a different separator.
    third = dpo("init-execution")
    step = dpo("init-step", third, "TRANSFORM", str(transform), *patterns)
    assert dpo("compare-step-models", step, second) == ""
    assert dpo("deleted-step-models", "--separator", " ", step, first) == names["t3"]

    # Errors: one line, exit 2.
    for args in (
        ["complete-execution", "not-a-guid"],
        ["complete-step", str(uuid.uuid4())],
        ["init-step", third, "LOAD", str(models / "missing"), "*"],
    ):
        done = dpo.run(*args)
        assert done.returncode == 2, done
        assert done.stdout == ""
        assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith("error: ")


@pytest.mark.postgres
def test_seed_scenario_on_postgresql(pg_server: str, tmp_path: Path) -> None:
    # Its own database: the scenario starts with no execution at all.
    with fresh_database(pg_server) as url:
        seed_scenario(DpoProcess(url, tmp_path), tmp_path / "models")
        listed = subprocess.run(
            [sys.executable, "-m", "waldo.cli", "--db", url, "runs", "--format", "json"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            check=True,
        )
    assert listed.stdout.count('"kind": "dpo"') == 3
    assert listed.stdout.count('"status": "success"') == 2


def test_seed_scenario_on_sqlite(tmp_path: Path) -> None:
    seed_scenario(DpoProcess(f"sqlite:///{tmp_path / 'journal.db'}", tmp_path), tmp_path / "models")


@pytest.mark.postgres
def test_psycopg2_style_url_of_the_seed_works(pg_url: str, tmp_path: Path) -> None:
    url = pg_url.replace("postgresql://", "postgresql+psycopg2://", 1)
    dpo = DpoProcess(url, tmp_path)
    execution = dpo("init-execution")
    dpo("complete-execution", execution)
    assert dpo("get-last-successful-execution") == execution
