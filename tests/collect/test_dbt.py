"""dbt artifacts: run_results.json + manifest.json from a folder into the domain layer.

The artifacts are those a real ``dbt build`` wrote (dbt-core 1.9.11, dbt-duckdb 1.9.6;
``dbt_artifacts/README.md`` says how they were made)."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from typing import Any

from tests.collect._helpers import context, query, waldo

ARTIFACTS = Path(__file__).with_name("dbt_artifacts")


def archive(folder: Path, build: str) -> dict[str, Any]:
    """Copy a real dbt build's artifacts (``dbt_artifacts/``) into ``folder``, as a job
    archiving each run's ``target/`` would; return its run results."""
    folder.mkdir(parents=True)
    source = ARTIFACTS / build
    shutil.copy(source / "run_results.json", folder / "run_results.json")
    with gzip.open(source / "manifest.json.gz") as packed:
        (folder / "manifest.json").write_bytes(packed.read())
    results: dict[str, Any] = json.loads((folder / "run_results.json").read_text())
    return results


def test_invocations_and_node_results(tmp_path: Path) -> None:
    artifacts = tmp_path / "archive"
    first = archive(artifacts / "first", "first_build")
    invocation = first["metadata"]["invocation_id"]
    db = f"sqlite:///{tmp_path}/w.db"
    ctx = context(db, connection={"path": str(artifacts)})
    done = waldo("collect", "dbt", "run", ctx)
    assert done.returncode == 0, done.stderr
    pipeline_id = f"dbt:DbtInvocation:1:{invocation}"
    assert query(
        db, "SELECT id, name, result, status, duration_sec, cicd_scope_id FROM cicd_pipelines"
    ) == [
        (
            pipeline_id,
            "dbt build",
            "FAILURE",
            "DONE",
            first["elapsed_time"],
            "dbt:DbtProject:1:shop",
        )
    ]
    tasks = query(
        db,
        "SELECT name, type, result, original_result, pipeline_id FROM cicd_tasks ORDER BY name",
    )
    assert tasks == [
        ("customer_count", "BUILD", "ABORT", "skipped", pipeline_id),
        ("customers", "BUILD", "SUCCESS", "success", pipeline_id),
        ("not_null_customers_id", "TEST", "SUCCESS", "pass", pipeline_id),
        ("not_null_customers_name", "TEST", "FAILURE", "fail", pipeline_id),
        ("raw_customers", "BUILD", "SUCCESS", "success", pipeline_id),
        ("unique_customers_id", "TEST", "SUCCESS", "pass", pipeline_id),
    ]
    assert len(tasks) == len(first["results"])

    # The next build archived later: only the new file is read.
    second = archive(artifacts / "second", "second_build")
    again = waldo("collect", "dbt", "run", ctx)
    assert again.returncode == 0, again.stderr
    assert "collect invocations: 1 records" in again.stdout
    assert query(db, "SELECT id, result FROM cicd_pipelines ORDER BY started_date") == [
        (pipeline_id, "FAILURE"),
        (f"dbt:DbtInvocation:1:{second['metadata']['invocation_id']}", "SUCCESS"),
    ]
    assert query(db, "SELECT count(*) FROM cicd_tasks") == [
        (len(first["results"]) + len(second["results"]),)
    ]


def test_a_missing_folder_is_a_one_line_error(tmp_path: Path) -> None:
    ctx = context(f"sqlite:///{tmp_path}/w.db", connection={"path": str(tmp_path / "nope")})
    done = waldo("collect", "dbt", "collect", ctx, "invocations")
    assert done.returncode == 2
    assert (
        done.stderr.startswith("error: The dbt artifacts folder") and "Traceback" not in done.stderr
    )
