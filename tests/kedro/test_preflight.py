"""Preflight (opt-in): a run that cannot succeed stops before any node runs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.helpers.projects import chain_project, kedro_run
from waldo.journal import Journal
from waldo.kedro._config import settings_for_project

pytestmark = pytest.mark.slow


def journal(root: Path) -> Journal:
    return Journal(settings_for_project(root))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return chain_project(tmp_path / "proj", nodes=2, waldo_yml="preflight: true\n")


def test_missing_inputs_are_listed_and_no_node_runs(project: Path) -> None:
    seed = project / "data" / "seed.csv"
    kept = seed.read_text()
    seed.unlink()
    try:
        result = kedro_run(project)
    finally:
        seed.write_text(kept)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "preflight: 1 input(s) missing: seed" in output
    run = journal(project).history.run_detail("latest")
    assert run.summary.status == "failed"
    assert "input(s) missing" in (run.error_message or "")
    assert run.nodes == []
    assert not (project / "data" / "d0.csv").exists()


def test_a_passing_preflight_lets_the_run_go(project: Path) -> None:
    assert kedro_run(project).returncode == 0
    assert journal(project).history.run_detail("latest").summary.status == "success"


def test_a_failing_preflight_command_stops_the_run(tmp_path: Path) -> None:
    command = f'{sys.executable} -c "import sys; print(\\"lint says no\\"); sys.exit(3)"'
    root = chain_project(
        tmp_path / "proj",
        nodes=1,
        waldo_yml=f"preflight:\n  commands: ['{command}']\n",
    )
    result = kedro_run(root)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "failed with exit status 3" in output and "lint says no" in output
    assert journal(root).history.run_detail("latest").nodes == []
