"""The seed's usage example, copied verbatim into ``seed_usage_example.txt``, runs as a
bash script, on SQLite and on PostgreSQL.

Only what the seed leaves to the reader is filled in: the ``$ `` prompts and the
``pipenv`` lines are dropped, the connection string and the ``id-as-returned-by-...``
placeholders become shell variables, and the outputs of ``init-execution`` and
``get-last-successful-execution`` are captured into them. Every command name, argument
and pattern stays as written, unquoted patterns and the ``C:/absolute/...`` base path
included (on Linux that is a folder named ``C:`` in the current folder).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.cli import run_waldo

EXAMPLE = Path(__file__).with_name("seed_usage_example.txt")
ISO_WITH_ZONE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")
PLACEHOLDERS = {
    "postgresql+psycopg2://user:password@host:port/dbname": '"$DB_URL"',
    "id-as-returned-by-get-last-successful-execution-command": '"$LAST"',
    "id-as-retured-by-get-last-successful-execution-command": '"$LAST"',
    "id-as-retured-by-init-command": '"$EXECUTION"',
}
CAPTURED = {"init-execution": "EXECUTION", "get-last-successful-execution": "LAST"}


def seed_script() -> str:
    """The usage example as a bash script, placeholders filled in."""
    lines = ["set -euo pipefail"]
    for line in EXAMPLE.read_text().splitlines():
        if not line.startswith("$ ") or line.startswith("$ pipenv"):
            continue
        command = line[2:]
        for placeholder, variable in PLACEHOLDERS.items():
            command = command.replace(placeholder, variable)
        last_word = command.split()[-1]
        if last_word in CAPTURED:
            command = f"{CAPTURED[last_word]}=$({command})"
        lines.append(command)
    return "\n".join(lines) + "\n"


def make_models(root: Path) -> tuple[Path, Path]:
    load = root / "relative/path/to/load/models"
    transform = root / "C:/absolute/path/to/transform/models"
    for path, text in {
        load / "customers.json": '{"table": "customers"}',
        load / "nested/orders.json": '{"table": "orders"}',
        transform / "group1/revenue.csv": "month,revenue\n",
        transform / "group2/daily.sql": "select 1",
        transform / "group2/marts/monthly.sql": "select 2",
    }.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return load, transform


def run_script(script: Path, db_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "WALDO_DB_URL"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["DB_URL"] = db_url
    return subprocess.run(
        ["bash", str(script)], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def check_seed_example(db_url: str, root: Path) -> None:
    script = root / "seed_example.sh"
    script.write_text(seed_script())
    assert script.read_text().count("python -m dpo") == 8
    _, transform = make_models(root)

    first = run_script(script, db_url, root)
    assert first.returncode == 0, first.stderr
    assert first.stderr == ""
    # the timestamp of no execution, the load models, the transform models: all new
    assert first.stdout.splitlines() == ["", "customers,orders", "daily,monthly,revenue"]

    (transform / "group2/daily.sql").write_text("select 1 -- changed")
    (transform / "group1/forecast.csv").write_text("month,forecast\n")
    second = run_script(script, db_url, root)
    assert second.returncode == 0, second.stderr
    stamp, load_changes, transform_changes = second.stdout.splitlines()
    assert ISO_WITH_ZONE.match(stamp), stamp
    assert load_changes == ""
    assert transform_changes == "daily,forecast"

    listed = run_waldo("--db", db_url, "runs", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.count('"kind": "dpo"') == 2
    assert listed.stdout.count('"status": "success"') == 2
    assert listed.stdout.count(f'"{root.name}"') == 2  # named by the current folder


def test_the_seed_usage_example_runs_unchanged_on_sqlite(tmp_path: Path) -> None:
    check_seed_example(f"sqlite:///{tmp_path / 'journal.db'}", tmp_path)


@pytest.mark.postgres
def test_the_seed_usage_example_runs_unchanged_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    seed_url = pg_url.replace("postgresql://", "postgresql+psycopg2://", 1)
    check_seed_example(seed_url, tmp_path)


def test_an_unquoted_pattern_the_shell_expanded_is_a_warning(tmp_path: Path) -> None:
    """The seed writes ``**/*.json`` unquoted: with a matching file in the current
    folder, bash hands over that file's path, which matches nothing under the base."""
    make_models(tmp_path)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes/todo.json").write_text("{}")
    script = tmp_path / "seed_example.sh"
    script.write_text(seed_script())
    done = run_script(script, f"sqlite:///{tmp_path / 'journal.db'}", tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1] == ""  # the load step found no model...
    warning = done.stderr.strip().splitlines()
    assert len(warning) == 1  # ...and says why, once
    assert warning[0].startswith("warning: the pattern 'notes/todo.json' matches no file under")
    assert "quote it" in warning[0]
