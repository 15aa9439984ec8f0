"""A ``waldo.yml`` with typos and wrong types in a real ``kedro run``: the run is
recorded with one warning per problem (no traceback); strict mode fails it instead."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers.projects import chain_project
from tests.kedro._e2e import journal_at, output_of, run_kedro, waldo_warnings

pytestmark = pytest.mark.slow

NODES = 2
MISTAKES = """
stirct: true
heartbeat_second: 3
preflight: 17
fingerprints: banana
stats: {max_rows: many}
notify: {wen: [failure]}
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = chain_project(tmp_path_factory.mktemp("yml") / "proj", nodes=NODES)
    for env, text in {"typos": MISTAKES, "strict": "strict: true\npreflite: true\n"}.items():
        (root / "conf" / env).mkdir()
        (root / "conf" / env / "waldo.yml").write_text(text)
    return root


def _run(root: Path, env: str) -> subprocess.CompletedProcess[str]:
    shutil.rmtree(root / ".waldo", ignore_errors=True)
    for output in (root / "data").glob("d*.csv"):
        output.unlink()
    return run_kedro(root, "run", "--env", env)


def test_each_mistake_is_one_warning_and_the_run_is_recorded(project: Path) -> None:
    result = _run(project, "typos")
    output = output_of(result)
    assert result.returncode == 0, output
    assert "Traceback" not in output
    warnings = waldo_warnings(output)
    expected = [
        "unknown key `stirct` (did you mean `strict`?)",
        "unknown key `heartbeat_second` (did you mean `heartbeat_seconds`?)",
        "`preflight` must be true or false or a mapping",
        "`fingerprints` must be true or false or a mapping",
        "`stats.max_rows` must be a whole number, not 'many'",
        "unknown key `wen` in `notify` (did you mean `when`?)",
    ]
    for words in expected:
        assert sum(words in w for w in warnings) == 1, (words, warnings)
    assert len(warnings) == len(expected), warnings
    [run] = journal_at(project).history.runs()
    assert (run.status, run.nodes_ok) == ("success", NODES)


def test_strict_mode_fails_the_run_and_names_the_key(project: Path) -> None:
    result = _run(project, "strict")
    output = output_of(result)
    assert result.returncode != 0
    assert "unknown key `preflite` (did you mean `preflight`?)" in output
    assert not (project / "data" / f"d{NODES - 1}.csv").exists()
