"""Secrets stay out of what a real ``kedro run`` records and shows.

Secret parameters (``--params`` and ``parameters.yml``, by name or by ``mask:`` in
waldo.yml) are stored masked with a fingerprint, so a diff still sees them change, and
appear nowhere: not in the database file, ``waldo show``, ``waldo diff``, ``waldo
report``, the web page or OpenLineage events. A store URL's password appears in no
warning or error of a run, strict or not.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.kedro._e2e import journal_at, output_of, run_kedro, waldo, waldo_json, waldo_warnings
from waldo.journal import Journal
from waldo.kedro._project import write_project
from waldo.web import make_server

pytestmark = pytest.mark.slow

SECRETS = ("RunPw-1111", "RunPw-2222", "RunTok-3333", "YamlKey-4444", "YamlDb-5555", "Salt-6666")
NODES_PY = """
def use(seed, api_key, db, salt, factor):
    assert api_key and db["password"] and salt
    return seed * factor
"""
REGISTRY_PY = """
from kedro.pipeline import Pipeline, node, pipeline

from secret_proj.nodes import use


def register_pipelines() -> dict[str, Pipeline]:
    inputs = ["seed", "params:api_key", "params:db", "params:model_salt", "params:factor"]
    return {"__default__": pipeline([node(use, inputs, "out", name="use")])}
"""
PARAMETERS = """
api_key: YamlKey-4444
db:
  host: db.example.com
  password: YamlDb-5555
model_salt: Salt-6666
factor: 2
"""
WALDO_YML = """
mask: ["*_salt"]
lineage:
  transport: file
  path: lineage/events.jsonl
"""


@dataclass
class Recorded:
    root: Path
    journal: Journal
    first: str
    second: str
    outputs: list[str]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    root = write_project(
        tmp_path_factory.mktemp("secrets") / "proj",
        "secret_proj",
        nodes_py=NODES_PY,
        registry_py=REGISTRY_PY,
        catalog_yml="seed:\n  type: MemoryDataset\n  data: 3\n",
        parameters_yml=PARAMETERS,
        local_files={"conf/base/waldo.yml": WALDO_YML},
    )
    outputs = []
    journal = journal_at(root)
    run_ids = []
    for params in (
        "password=RunPw-1111,token=RunTok-3333,model_salt=Salt-6666,factor=3",
        "password=RunPw-2222,token=RunTok-3333,model_salt=Salt-6666,factor=3",
    ):
        done = run_kedro(root, "run", "--params", params)
        assert done.returncode == 0, output_of(done)
        outputs.append(output_of(done))
        run_ids.append(journal.history.resolve_run_id("latest"))
    return Recorded(root, journal, run_ids[0], run_ids[1], outputs)


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, secret


def test_the_database_file_holds_no_secret(recorded: Recorded) -> None:
    for output in recorded.outputs:
        assert waldo_warnings(output) == []
    raw = b"".join(p.read_bytes() for p in (recorded.root / ".waldo").glob("waldo.db*"))
    for secret in SECRETS:
        assert secret.encode() not in raw, secret


def test_show_keeps_a_fingerprint_of_each_secret(recorded: Recorded) -> None:
    shown = waldo_json(recorded.root, "show", recorded.first)
    params = shown["runtime_params"]
    assert params["factor"] == 3  # not a secret: as given
    for name in ("password", "token", "model_salt"):
        assert params[name].startswith("***#") and len(params[name]) == len("***#") + 8
    table = waldo(recorded.root, "show", recorded.first)
    assert table.returncode == 0 and params["password"] in table.stdout
    assert_no_secret(table.stdout + json.dumps(shown))


def test_diff_sees_a_changed_secret_without_showing_it(recorded: Recorded) -> None:
    diff = waldo_json(recorded.root, "diff", recorded.first, recorded.second)
    changed = {p["name"]: (p["a"], p["b"]) for p in diff["params"]}
    assert set(changed) == {"password"}  # the token and the salt did not change
    before, after = changed["password"]
    assert before.startswith("***#") and after.startswith("***#") and before != after
    table = waldo(recorded.root, "diff", recorded.first, recorded.second)
    assert table.returncode == 0 and "param password" in table.stdout
    assert_no_secret(table.stdout + json.dumps(diff))


def test_report_web_page_and_lineage_events_hold_no_secret(
    recorded: Recorded, tmp_path: Path
) -> None:
    report = tmp_path / "report.html"
    done = waldo(recorded.root, "report", recorded.second, "-o", str(report))
    assert done.returncode == 0, done.stderr
    assert "***#" in report.read_text()
    assert_no_secret(report.read_text())

    server = make_server(recorded.journal.history, port=0)
    server.start_in_thread()
    try:
        pages = [
            f"runs/{recorded.second}",
            f"api/runs/{recorded.second}",
            f"diff?a={recorded.first}&b={recorded.second}",
            "api/runs",
        ]
        for page in pages:
            with urllib.request.urlopen(server.url + page, timeout=60) as response:
                assert_no_secret(response.read().decode())
    finally:
        server.shutdown()
        server.server_close()

    exported = tmp_path / "exported.jsonl"
    done = waldo(
        recorded.root, "export", "openlineage", "--transport", "file", "--path", str(exported)
    )
    assert done.returncode == 0, done.stderr
    live = recorded.root / "lineage" / "events.jsonl"
    assert live.is_file() and exported.is_file()
    assert_no_secret(live.read_text() + exported.read_text())


@pytest.mark.parametrize(
    ("url", "strict"),
    [
        ("postgresql://:StorePw-7777@127.0.0.1:1/x", False),
        ("postgresql://u@127.0.0.1:1/x?password=StorePw-7777", True),
        ("postgresql://u:Store Pw-7777@127.0.0.1:1/x", True),
    ],
)
def test_a_store_password_is_in_no_warning_or_error(
    recorded: Recorded, url: str, strict: bool
) -> None:
    env = {"WALDO_DB_URL": url, "WALDO_STRICT": "1" if strict else "0"}
    done = run_kedro(recorded.root, "run", env=env)
    output = output_of(done)
    assert (done.returncode != 0) == strict, output
    assert "127.0.0.1:1" in output  # the store is named...
    assert "StorePw" not in output and "Pw-7777" not in output  # ...without its password
