"""dbt artifacts: run_results.json + manifest.json from a folder into the domain layer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.collect._helpers import context, query, waldo


def timing(start: str, end: str) -> list[dict[str, str]]:
    return [
        {"name": "compile", "started_at": start, "completed_at": start},
        {"name": "execute", "started_at": start, "completed_at": end},
    ]


def write_invocation(folder: Path, invocation: str, results: list[dict[str, Any]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "run_results.json").write_text(
        json.dumps(
            {
                "metadata": {
                    "dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json",
                    "dbt_version": "1.8.0",
                    "generated_at": "2026-11-20T10:01:00Z",
                    "invocation_id": invocation,
                    "env": {},
                },
                "results": results,
                "elapsed_time": 60.5,
                "args": {"which": "build"},
            }
        )
    )
    (folder / "manifest.json").write_text(
        json.dumps(
            {
                "metadata": {"project_name": "jaffle_shop", "invocation_id": invocation},
                "nodes": {
                    "model.jaffle_shop.customers": {
                        "name": "customers",
                        "resource_type": "model",
                        "original_file_path": "models/customers.sql",
                    },
                    "test.jaffle_shop.not_null_customers_id.5c9bf9911d": {
                        "name": "not_null_customers_id",
                        "resource_type": "test",
                        "original_file_path": "models/schema.yml",
                    },
                },
            }
        )
    )


RESULTS = [
    {
        "status": "success",
        "unique_id": "model.jaffle_shop.customers",
        "timing": timing("2026-11-20T10:00:00Z", "2026-11-20T10:00:40Z"),
        "execution_time": 40.0,
        "message": "SELECT 100",
        "thread_id": "Thread-1",
        "adapter_response": {},
    },
    {
        "status": "fail",
        "unique_id": "test.jaffle_shop.not_null_customers_id.5c9bf9911d",
        "timing": timing("2026-11-20T10:00:41Z", "2026-11-20T10:00:43Z"),
        "execution_time": 2.0,
        "message": "Got 3 results, configured to fail if != 0",
        "thread_id": "Thread-2",
        "failures": 3,
    },
]


def test_invocations_and_node_results(tmp_path: Path) -> None:
    artifacts = tmp_path / "archive"
    write_invocation(artifacts / "2026-11-20", "inv-1", RESULTS)
    db = f"sqlite:///{tmp_path}/w.db"
    ctx = context(db, connection={"path": str(artifacts)})
    done = waldo("collect", "dbt", "run", ctx)
    assert done.returncode == 0, done.stderr
    assert query(
        db,
        "SELECT id, name, result, status, duration_sec, cicd_scope_id FROM cicd_pipelines",
    ) == [
        (
            "dbt:DbtInvocation:1:inv-1",
            "dbt build",
            "FAILURE",
            "DONE",
            60.5,
            "dbt:DbtProject:1:jaffle_shop",
        )
    ]
    assert query(
        db,
        "SELECT name, type, result, original_result, duration_sec, pipeline_id "
        "FROM cicd_tasks ORDER BY started_date",
    ) == [
        ("customers", "BUILD", "SUCCESS", "success", 40.0, "dbt:DbtInvocation:1:inv-1"),
        ("not_null_customers_id", "TEST", "FAILURE", "fail", 2.0, "dbt:DbtInvocation:1:inv-1"),
    ]

    # A second invocation archived later: only the new file is read.
    write_invocation(artifacts / "2026-11-21", "inv-2", RESULTS[:1])
    again = waldo("collect", "dbt", "run", ctx)
    assert again.returncode == 0, again.stderr
    assert "collect invocations: 1 records" in again.stdout
    assert query(db, "SELECT id, result FROM cicd_pipelines ORDER BY id") == [
        ("dbt:DbtInvocation:1:inv-1", "FAILURE"),
        ("dbt:DbtInvocation:1:inv-2", "SUCCESS"),
    ]
    assert query(db, "SELECT count(*) FROM cicd_tasks") == [(3,)]


def test_a_missing_folder_is_a_one_line_error(tmp_path: Path) -> None:
    ctx = context(f"sqlite:///{tmp_path}/w.db", connection={"path": str(tmp_path / "nope")})
    done = waldo("collect", "dbt", "collect", ctx, "invocations")
    assert done.returncode == 2
    assert (
        done.stderr.startswith("error: The dbt artifacts folder") and "Traceback" not in done.stderr
    )
