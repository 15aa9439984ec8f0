"""Data checks in real ``kedro run`` subprocesses: Great Expectations 1.x on the frames
nodes save, in warn and fail mode, on SQLite and PostgreSQL, with a pattern, a factory
dataset, a GX suite saved by GX itself, a broken expectation, a check at the pipeline's
end, and the static site written as the run ends."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from openlineage.client.serde import Serde

from tests.helpers.projects import chain_project
from tests.kedro._e2e import journal_at, output_of, run_kedro, waldo, waldo_json, waldo_warnings
from waldo.journal import CheckResult
from waldo.kedro._project import write_project
from waldo.lineage import run_events
from waldo.lineage._quality import FACET

pytestmark = pytest.mark.slow

NODES_PY = """
import pandas as pd


def make_companies(raw):
    return raw


def make_features(companies):
    out = companies.copy()
    out["score"] = out["rating"] * 2
    return out


def summarise(features):
    return pd.DataFrame({"n": [len(features)]})


def other(raw):
    return raw.head(1)
"""

REGISTRY_PY = """
from kedro.pipeline import Pipeline, node, pipeline

from checks_proj.nodes import make_companies, make_features, other, summarise


def register_pipelines() -> dict[str, Pipeline]:
    main = pipeline(
        [
            node(make_companies, "raw", "companies", name="make_companies"),
            node(make_features, "companies", "company_features", name="make_features"),
            node(summarise, "company_features", "summary", name="summarise"),
        ]
    )
    return {"__default__": main, "other": pipeline([node(other, "raw", "first", name="other")])}
"""

CATALOG_YML = """
raw:
  type: pandas.CSVDataset
  filepath: data/raw.csv
companies:
  type: pandas.CSVDataset
  filepath: data/companies.csv
"{name}_features":
  type: pandas.ParquetDataset
  filepath: data/{name}_features.parquet
"""

WALDO_YML = """
checks:
  companies:
    suite: companies_suite
    expectations:
      - expect_column_values_to_not_be_null: {column: id}
      - expect_column_values_to_be_between: {column: rating, min_value: 0, max_value: 5}
      - expect_column_values_to_be_fancy: {column: id}
      - expect_column_values_to_not_be_null: {column: revenue}
  "*_features":
    - expect_table_row_count_to_be_between: {min_value: 1}
  summary:
    when: pipeline_end
    parameters:
      n_companies: {rows_of: companies}
    expectations:
      - expect_column_values_to_be_between:
          {column: n, min_value: {$PARAMETER: n_companies}, max_value: {$PARAMETER: n_companies}}
on_failure: warn
static_site: {path: site, keep: 2}
lineage: {transport: file, path: lineage/events.jsonl}
"""

RAW_CSV = "id,rating\n1,4.5\n2,3.0\n3,7.0\n"

#: (dataset, expectation, outcome) of every result a run of the project records.
EXPECTED = [
    ("companies", "expect_column_values_to_be_unique", "passed"),  # from the GX suite
    ("companies", "expect_column_values_to_not_be_null", "passed"),
    ("companies", "expect_column_values_to_be_between", "failed"),
    ("companies", "expect_column_values_to_be_fancy", "error"),
    ("companies", "expect_column_values_to_not_be_null", "error"),
    ("company_features", "expect_table_row_count_to_be_between", "passed"),
    ("summary", "expect_column_values_to_be_between", "passed"),
]


def save_suite(root: Path) -> None:
    """The named suite, saved by Great Expectations itself in a file context."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    context = gx.get_context(mode="file", project_root_dir=str(root))
    context.suites.add(
        gx.ExpectationSuite(
            name="companies_suite", expectations=[gxe.ExpectColumnValuesToBeUnique(column="id")]
        )
    )


def checks_project(root: Path) -> Path:
    write_project(
        root,
        "checks_proj",
        nodes_py=NODES_PY,
        registry_py=REGISTRY_PY,
        catalog_yml=CATALOG_YML,
        local_files={
            "data/raw.csv": RAW_CSV,
            "conf/base/waldo.yml": WALDO_YML,
            "conf/failing/waldo.yml": "on_failure: fail\n",
            "conf/broken/waldo.yml": "checks:\n  companies: 3\n",
            "conf/broken_fail/waldo.yml": "checks:\n  companies: 3\non_failure: fail\n",
        },
    )
    save_suite(root)
    return root


def outcomes(results: list[CheckResult]) -> list[tuple[str, str, str]]:
    return [(r.dataset_name, r.expectation, r.outcome) for r in results]


def gx_files(root: Path) -> list[Path]:
    return sorted(p.relative_to(root) for p in (root / "gx").rglob("*"))


@pytest.fixture(scope="module")
def warned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """One run of the project in warn mode (SQLite): its folder and log. The run writes
    nothing for Great Expectations: its folder is as GX left it."""
    root = checks_project(tmp_path_factory.mktemp("checks") / "proj")
    before = gx_files(root)
    result = run_kedro(root, "run")
    assert result.returncode == 0, output_of(result)
    assert gx_files(root) == before
    assert not (root / "great_expectations").exists()
    yield root, output_of(result)


def test_warn_mode_records_every_result_and_the_run_goes_on(warned: tuple[Path, str]) -> None:
    root, log = warned
    journal = journal_at(root)
    run = journal.history.run_detail("latest")
    assert run.summary.status == "success" and run.summary.nodes_ok == 3
    results = journal.history.checks("latest")
    assert outcomes(results) == EXPECTED
    by_node = {(r.node_name, r.dataset_name) for r in results}
    assert by_node == {
        ("make_companies", "companies"),
        ("make_features", "company_features"),
        (None, "summary"),
    }
    between = results[2]
    assert (between.unexpected_count, between.unexpected_values) == (1, [7.0])
    assert between.suite is None and results[0].suite == "companies_suite"
    assert results[3].error == (
        "unknown expectation expect_column_values_to_be_fancy (see the Great Expectations gallery)"
    )
    assert results[4].error == 'The column "revenue" in BatchData does not exist.'
    saved = {d["dataset"]: d["version"] for d in run.datasets}
    assert {r.dataset_name: r.dataset_version for r in results} == {
        name: saved[name] for name in ("companies", "company_features", "summary")
    }
    assert all(r.duration_s is not None and r.duration_s > 0 for r in results)
    # each result that did not pass is one warning line
    warnings = [  # less the logger's "file.py:line" on the right
        re.sub(r"\s+\S+\.py:\d+$", "", w) for w in waldo_warnings(log) if w.startswith("check ")
    ]
    assert warnings == [
        "check failed on companies (node make_companies): "
        "expect_column_values_to_be_between(column=rating, min_value=0, max_value=5): "
        "1 unexpected, e.g. 7.0",
        "check error on companies (node make_companies): expect_column_values_to_be_fancy("
        "column=id): unknown expectation expect_column_values_to_be_fancy (see the Great "
        "Expectations gallery)",
        "check error on companies (node make_companies): expect_column_values_to_not_be_null("
        'column=revenue): The column "revenue" in BatchData does not exist.',
    ]


def test_the_commands_list_the_results(warned: tuple[Path, str]) -> None:
    root, _ = warned
    listed = waldo_json(root, "checks")
    assert [(c["dataset_name"], c["expectation"], c["outcome"]) for c in listed] == EXPECTED
    assert listed[2]["observed"] == "1 unexpected, e.g. 7.0"
    failed = waldo_json(root, "checks", "--failed")
    assert [c["outcome"] for c in failed] == ["failed", "error", "error"]
    shown = waldo(root, "show", "latest")
    assert shown.returncode == 0, shown.stderr
    section = shown.stdout.split("Failed checks", 1)[1]
    assert section.splitlines()[1].strip() == "make_companies"
    assert "check failed companies: expect_column_values_to_be_between(" in section
    table = waldo(root, "checks")
    assert "expect_column_values_to_be_fancy(column=id)" in table.stdout
    assert "(pipeline end)" in table.stdout


@pytest.mark.parametrize("source", ["live", "export"])
def test_lineage_events_carry_the_assertions(warned: tuple[Path, str], source: str) -> None:
    root, _ = warned
    if source == "live":
        events = [json.loads(line) for line in (root / "lineage" / "events.jsonl").open()]
    else:
        history = journal_at(root).history
        exported = run_events(history, history.resolve_run_id("latest"))
        events = [json.loads(Serde.to_json(e)) for e in exported]

    def assertions(job: str) -> dict[str, list[tuple[str, bool]]]:
        (event,) = [e for e in events if e["job"]["name"] == job and e["eventType"] == "COMPLETE"]
        return {  # by catalog name: a file's symlink (its name is its path), else its name
            (d["facets"].get("symlinks") or {"identifiers": [d]})["identifiers"][0]["name"]: [
                (a["assertion"], a["success"]) for a in d["facets"][FACET]["assertions"]
            ]
            for d in event["outputs"]
            if FACET in (d.get("facets") or {})
        }

    assert assertions("proj.__default__.make_companies") == {
        "companies": [(name, outcome == "passed") for _, name, outcome in EXPECTED[:5]]
    }
    assert assertions("proj.__default__.make_features") == {
        "company_features": [("expect_table_row_count_to_be_between", True)]
    }
    assert assertions("proj.__default__") == {
        "summary": [("expect_column_values_to_be_between", True)]
    }


def test_the_static_site_is_written_as_the_run_ends(warned: tuple[Path, str]) -> None:
    root, _ = warned
    run_id = journal_at(root).history.resolve_run_id("latest")
    index = (root / "site" / "index.html").read_text()
    page = root / "site" / "runs" / f"{run_id}.html"
    assert f"href='runs/{run_id}.html'" in index
    assert page.is_file() and run_id in page.read_text()


def test_fail_mode_fails_the_node_and_stops_the_run(tmp_path: Path) -> None:
    root = checks_project(tmp_path / "proj")
    result = run_kedro(root, "run", "--env", "failing")
    assert result.returncode != 0
    message = (
        "data check failed on companies (node make_companies): "
        "expect_column_values_to_be_between(column=rating, min_value=0, max_value=5): "
        "1 unexpected, e.g. 7.0 (and 2 more); on_failure: fail stops the run"
    )
    assert f"ChecksFailed: {message}" in output_of(result)
    journal = journal_at(root)
    run = journal.history.run_detail("latest")
    assert run.summary.status == "failed"
    assert [(n.node_name, n.status) for n in run.nodes] == [("make_companies", "failed")]
    (node,) = run.nodes
    assert node.error_type == "ChecksFailed" and node.error_message == message
    assert not (root / "data" / "company_features.parquet").exists()
    assert [r.on_failure for r in journal.history.checks("latest")] == ["fail"] * 5


BROKEN = "`checks.companies` in waldo.yml must be a list of expectations or a mapping"


def test_a_mistake_in_checks_is_one_warning_and_the_run_goes_on(tmp_path: Path) -> None:
    root = checks_project(tmp_path / "proj")
    result = run_kedro(root, "run", "--env", "broken")
    assert result.returncode == 0, output_of(result)
    warnings = waldo_warnings(output_of(result))
    assert any(w.startswith(f"no data checks in this run: {BROKEN}") for w in warnings)
    journal = journal_at(root)
    assert journal.history.run_detail("latest").summary.status == "success"
    assert journal.history.checks("latest") == []


def test_a_mistake_in_checks_stops_a_run_that_must_check(tmp_path: Path) -> None:
    root = checks_project(tmp_path / "proj")
    result = run_kedro(root, "run", "--env", "broken_fail")
    assert result.returncode != 0
    assert f"ChecksFailed: data checks cannot run: {BROKEN}" in output_of(result)
    run = journal_at(root).history.run_detail("latest")
    assert run.summary.status == "failed" and run.nodes == []
    assert (run.error_message or "").startswith(f"data checks cannot run: {BROKEN}")
    assert not (root / "data" / "companies.csv").exists()


def test_results_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    root = checks_project(tmp_path / "proj")
    result = run_kedro(root, "run", env={"WALDO_DB_URL": pg_url})
    assert result.returncode == 0, output_of(result)
    journal = journal_at(root, pg_url)
    try:
        assert outcomes(journal.history.checks("latest")) == EXPECTED
    finally:
        journal.store.dispose()


def imported_gx(result: subprocess.CompletedProcess[str]) -> bool:
    """Whether a run launched with ``PYTHONPROFILEIMPORTTIME=1`` imported GX."""
    return "great_expectations" in result.stderr


def test_great_expectations_is_imported_only_by_runs_with_checks(tmp_path: Path) -> None:
    plain = chain_project(tmp_path / "plain", nodes=1)
    result = run_kedro(plain, "run", env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert result.returncode == 0 and "import time:" in result.stderr
    assert not imported_gx(result)
    checked = checks_project(tmp_path / "checked")
    other = run_kedro(checked, "run", "--pipeline", "other", env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert other.returncode == 0, output_of(other)
    assert not imported_gx(other)  # none of its datasets has checks
    assert journal_at(checked).history.checks("latest") == []


@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_checks_run_in_parallel_runner_workers(tmp_path: Path, context: str) -> None:
    """ParallelRunner saves in its worker processes: the checks run and are recorded there."""
    root = checks_project(tmp_path / "proj")
    result = run_kedro(root, "run", "--runner", "ParallelRunner", env={"KEDRO_MP_CONTEXT": context})
    assert result.returncode == 0, output_of(result)
    assert sorted(outcomes(journal_at(root).history.checks("latest"))) == sorted(EXPECTED)


def without_great_expectations(tmp_path: Path) -> dict[str, str]:
    """An environment where ``import great_expectations`` fails, as when it is not
    installed: ``sys.modules[name] = None`` is how Python marks a module unavailable."""
    site = tmp_path / "no_gx"
    site.mkdir()
    (site / "sitecustomize.py").write_text("import sys\nsys.modules['great_expectations'] = None\n")
    return {"PYTHONPATH": str(site)}


NO_GX = "checks in waldo.yml need Great Expectations 1.x: pip install 'waldo[checks]'"


def test_without_great_expectations_checks_are_one_warning(tmp_path: Path) -> None:
    root = checks_project(tmp_path / "proj")
    result = run_kedro(root, "run", env=without_great_expectations(tmp_path))
    assert result.returncode == 0, output_of(result)
    assert "Traceback" not in output_of(result)
    warnings = [w for w in waldo_warnings(output_of(result)) if NO_GX in w]
    assert len(warnings) == 1, waldo_warnings(output_of(result))
    journal = journal_at(root)
    assert journal.history.run_detail("latest").summary.status == "success"
    assert journal.history.checks("latest") == []


def test_without_great_expectations_a_run_that_must_check_stops(tmp_path: Path) -> None:
    root = checks_project(tmp_path / "proj")
    result = run_kedro(root, "run", "--env", "failing", env=without_great_expectations(tmp_path))
    assert result.returncode != 0
    assert NO_GX in output_of(result)
    run = journal_at(root).history.run_detail("latest")
    assert run.summary.status == "failed" and run.nodes == []
    assert not (root / "data" / "companies.csv").exists()
