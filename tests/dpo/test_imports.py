"""A DPO command imports only the store pieces it uses: once the schema exists, no
Alembic, no ORM, no PostgreSQL dialect on SQLite, none of the recorder, the `waldo`
command line, the web page or pydantic."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

NOT_ON_THE_DPO_PATH = (
    "sqlalchemy.orm",
    "sqlalchemy.dialects.postgresql",
    "alembic",
    "pydantic",
    "rich",
    "waldo.cli",
    "waldo.web",
    "waldo.journal._recorder",
    "waldo.journal._history",
    "waldo.fingerprint._code",
    "waldo.store._writer",
)


def run_dpo(folder: Path, *args: str) -> tuple[str, set[str]]:
    """``dpo URL ARGS`` in a fresh interpreter: its answer and the modules it loaded."""
    code = (
        "import json, sys\nfrom waldo.dpo import dpo\n"
        "dpo.main(sys.argv[1:], standalone_mode=False)\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    url = f"sqlite:///{folder / 'journal.db'}"
    done = subprocess.run(
        [sys.executable, "-c", code, url, *args],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    *answer, modules = done.stdout.splitlines()
    return "\n".join(answer), set(json.loads(modules))


def test_dpo_commands_on_sqlite_import_only_what_they_use(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "a.sql").write_text("select 1")
    execution, _ = run_dpo(tmp_path, "init-execution")  # creates the schema (Alembic)
    step, loaded = run_dpo(tmp_path, "init-step", execution, "load", "models", "**/*.sql")
    changed, more = run_dpo(tmp_path, "compare-step-models", step, "")
    loaded |= more
    loaded |= run_dpo(tmp_path, "complete-execution", execution, "--force")[1]

    assert changed == "a"
    assert {"sqlalchemy", "waldo.journal._executions", "waldo.fingerprint._files"} <= loaded
    assert not {
        name
        for name in loaded
        for heavy in NOT_ON_THE_DPO_PATH
        if name == heavy or name.startswith(f"{heavy}.")
    }
