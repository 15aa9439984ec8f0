"""The plugin written in the README's "Collecting runs from other tools" runs as shown."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.collect._helpers import ROOT, context, query
from waldo.collect.testing import JsonServer, Reply


def readme_plugin() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Collecting runs from other tools", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 1
    return blocks[0]


def test_the_readme_plugin_collects(json_server: JsonServer, tmp_path: Path) -> None:
    (tmp_path / "my_ci.py").write_text(readme_plugin())
    json_server.require_header("authorization", "Bearer s3cret")
    json_server.route(
        "/builds",
        Reply(
            {"builds": [{"id": 1, "state": "passed", "finished_at": "2026-11-20T10:00:00Z"}]},
            headers={"Link": '<{url}/builds?since=0&page=2>; rel="next"'},
        ),
    )
    json_server.route("/builds?page=2", {"builds": [{"id": 2, "state": "running"}]})
    db = f"sqlite:///{tmp_path}/w.db"
    ctx = context(db, connection={"url": json_server.url, "token": "s3cret"})
    done = subprocess.run(
        [sys.executable, "my_ci.py", ctx, "builds"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
    )
    assert done.returncode == 0, done.stderr
    assert query(db, "SELECT id, result, status FROM cicd_pipelines ORDER BY id") == [
        ("myci:Build:1:1", "SUCCESS", "DONE"),
        ("myci:Build:1:2", None, "IN_PROGRESS"),
    ]
    (state,) = query(db, "SELECT state FROM collector_state")[0]
    assert json.loads(state) == {"since": 2}
