"""The README's data checks example runs as written: its pipeline, catalog, data and
waldo.yml make a project whose ``kedro run`` logs the warning the README shows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.kedro._e2e import journal_at, output_of, run_kedro, waldo_json
from waldo.kedro._project import write_project

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "README.md"


def example_files() -> tuple[dict[str, str], str]:
    """The section's files (each block opens with a comment naming its path) and the
    warning line its ``kedro run`` block shows."""
    section = README.read_text().split("### Data checks (Great Expectations)", 1)[1]
    section = section.split("\n## ", 1)[0]
    files = {}
    for _lang, body in re.findall(r"```(python|yaml|text)\n(.*?)```", section, re.S):
        first, rest = body.split("\n", 1)
        files[first.removeprefix("# ").strip()] = rest
    (shown,) = re.findall(r"^# WARNING (waldo: .*)$", section, re.M)
    return files, shown


def test_the_readme_example_runs(tmp_path: Path) -> None:
    files, shown = example_files()
    assert sorted(files) == [
        "conf/base/catalog.yml",
        "conf/base/waldo.yml",
        "data/01_raw/companies.csv",
        "src/companies/pipeline_registry.py",
    ]
    root = write_project(
        tmp_path / "companies",
        "companies",
        nodes_py="",
        registry_py=files.pop("src/companies/pipeline_registry.py"),
        catalog_yml=files.pop("conf/base/catalog.yml"),
        local_files=files,
    )
    result = run_kedro(root, "run")
    log = output_of(result)
    assert result.returncode == 0, log
    assert shown in log
    checks = waldo_json(root, "checks")
    assert [(c["dataset_name"], c["node_name"], c["outcome"]) for c in checks] == [
        ("companies", "clean_companies", "passed"),
        ("companies", "clean_companies", "failed"),
        ("companies_features", "add_features", "passed"),
        ("companies_features", None, "passed"),
    ]
    run_id = journal_at(root).history.resolve_run_id("latest")
    assert (root / "site" / "runs" / f"{run_id}.html").is_file()
