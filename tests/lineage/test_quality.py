"""Data check results travel in OpenLineage as the ``dataQualityAssertions`` facet of
the datasets they checked: on the node's end event, or the pipeline's for a check run
at its end."""

from __future__ import annotations

from pathlib import Path

from openlineage.client.serde import Serde

from tests.helpers.journal import record_run, settings_for
from tests.lineage._schema import validate
from waldo.journal import CheckResult, Journal, Recorder
from waldo.lineage import run_events


def test_checked_datasets_carry_their_assertions(tmp_path: Path) -> None:
    settings = settings_for(f"sqlite:///{tmp_path / 'waldo.db'}", tmp_path)
    recorder = Recorder(settings)
    record_run(recorder, "run-q", flush=False)
    recorder.record_checks(
        [
            CheckResult(
                "run-q",
                "clean",
                "clean_out",
                "expect_column_values_to_not_be_null",
                {"column": "id"},
                True,
            ),
            CheckResult(
                "run-q",
                "clean",
                "clean_out",
                "expect_table_row_count_to_equal",
                {"value": 3},
                False,
            ),
            CheckResult(
                "run-q", None, "train_out", "expect_column_to_exist", {"column": "y"}, True
            ),
        ]
    )
    recorder.flush()
    journal = Journal(settings)
    events = [Serde.to_dict(e) for e in run_events(journal.history, "run-q")]
    for event in events:
        validate(event)

    def facets(job: str, state: str) -> dict[str, object]:
        (event,) = [e for e in events if e["job"]["name"] == job and e["eventType"] == state]
        return {
            d["name"]: d["facets"]["dataQualityAssertions"]["assertions"]
            for d in event["outputs"]
            if "dataQualityAssertions" in (d.get("facets") or {})
        }

    assert facets("demo.__default__.clean", "COMPLETE") == {
        "clean_out": [
            {
                "assertion": "expect_column_values_to_not_be_null",
                "column": "id",
                "success": True,
                "params": {},
            },
            {"assertion": "expect_table_row_count_to_equal", "success": False, "params": {}},
        ]
    }
    assert facets("demo.__default__.load", "COMPLETE") == {}
    assert facets("demo.__default__", "COMPLETE") == {
        "train_out": [
            {"assertion": "expect_column_to_exist", "column": "y", "success": True, "params": {}}
        ]
    }
    journal.store.dispose()
