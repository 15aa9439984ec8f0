"""The results store from a real Kedro project: the original plugin's outlier example.

One project per module: three scikit-learn detectors score the same samples and save
them through ``ScoresDataset``; the run goes once to SQLite and once to PostgreSQL.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from kedro.io import DatasetError

from waldo.kedro import SamplesDataset, ScoresDataset
from waldo.kedro._outliers_demo import create_outliers_project
from waldo.kedro._project import kedro_run

pytestmark = pytest.mark.slow

ALGORITHMS = ["elliptic_envelope", "isolation_forest", "local_outlier_factor"]


def waldo(root: Path, *args: str, db: str | None = None) -> subprocess.CompletedProcess[str]:
    extra = ["--db", db] if db else []
    return subprocess.run(
        [sys.executable, "-m", "waldo.cli", "-C", str(root), *extra, *args],
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = create_outliers_project(tmp_path_factory.mktemp("outliers") / "proj")
    result = kedro_run(root)
    assert result.returncode == 0, result.stderr[-2000:]
    return root


def contexts(root: Path, db: str | None = None) -> list[dict]:
    out = waldo(root, "results", "contexts", "--format", "json", db=db)
    assert out.returncode == 0, out.stderr
    return sorted(json.loads(out.stdout), key=lambda c: c["algorithm"])


def test_each_detector_saves_its_scores_under_a_context_of_the_run(project: Path) -> None:
    run = json.loads(waldo(project, "runs", "--format", "json").stdout)[0]
    found = contexts(project)
    assert [c["algorithm"] for c in found] == ALGORITHMS
    for context in found:
        assert context["run_id"] == run["run_id"]
        assert context["samples"] == 500
        assert 20 <= context["outliers"] <= 30  # contamination 0.05 of 500
    by_name = {c["algorithm"]: c for c in found}
    assert by_name["isolation_forest"]["parameters"] == {
        "contamination": 0.05,
        "n_estimators": 100,
        "random_state": 7,
    }
    assert by_name["local_outlier_factor"]["parameters"]["n_neighbors"] == 20


def test_scores_compared_across_algorithms(project: Path) -> None:
    out = waldo(project, "results", "compare", "--format", "json")
    assert out.returncode == 0, out.stderr
    pairs = {(p["a"]["algorithm"], p["b"]["algorithm"]): p for p in json.loads(out.stdout)}
    assert len(pairs) == 3
    for pair in pairs.values():
        assert pair["common_samples"] == 500
        assert 0.5 < pair["spearman"] <= 1.0  # they broadly agree on what is outlying
        assert pair["prediction_agreement"] > 0.95
    # the two global density models agree more than either does with the local one
    global_pair = pairs[("elliptic_envelope", "isolation_forest")]["spearman"]
    assert global_pair > pairs[("elliptic_envelope", "local_outlier_factor")]["spearman"]
    table = waldo(project, "results", "compare", "isolation_forest", "local_outlier_factor")
    assert "spearman" in table.stdout and "local_outlier_factor" in table.stdout


def test_top_samples_are_the_scattered_points(project: Path) -> None:
    out = waldo(project, "results", "top", "isolation_forest", "-k", "10", "--format", "json")
    samples = json.loads(out.stdout)["samples"]
    assert len(samples) == 10
    scores = [s["score"] for s in samples]
    assert scores == sorted(scores, reverse=True)
    # make_samples appends the 25 uniformly scattered points last: ids 476..500
    assert sum(s["sample_id"] > 475 for s in samples) >= 8
    assert all(set(s["data"]) == {"x", "y"} for s in samples)


def test_datasets_load_back_joined_with_their_context(project: Path) -> None:
    con = {"con": f"sqlite:///{project / '.waldo' / 'waldo.db'}"}
    frame = ScoresDataset(algorithm="isolation_forest", credentials=con).load()
    assert list(frame.columns) == [
        "context_id",
        "run_id",
        "algorithm",
        "parameters",
        "sample_id",
        "score",
        "prediction",
    ]
    assert len(frame) == 500 and frame["sample_id"].is_monotonic_increasing
    assert set(frame["algorithm"]) == {"isolation_forest"}
    assert frame.attrs["parameters"]["n_estimators"] == 100
    samples = SamplesDataset(credentials=con).load()
    assert list(samples.columns) == ["id", "x", "y"] and len(samples) == 500


def test_bad_frames_are_clear_dataset_errors(tmp_path: Path) -> None:
    con = {"con": f"sqlite:///{tmp_path / 'r.db'}"}
    with pytest.raises(DatasetError, match=r"lacks column.*score"):
        ScoresDataset(algorithm="x", credentials=con).save(pd.DataFrame({"sample_id": [1]}))
    with pytest.raises(DatasetError, match="needs an `id` column"):
        SamplesDataset(credentials=con).save(pd.DataFrame({"x": [1.0]}))
    with pytest.raises(DatasetError, match="no results saved yet"):
        ScoresDataset(algorithm="x", credentials=con).load()


@pytest.mark.postgres
def test_the_example_on_postgresql(project: Path, pg_url: str) -> None:
    result = kedro_run(project, env={"WALDO_DB_URL": pg_url})
    assert result.returncode == 0, result.stderr[-2000:]
    found = contexts(project, db=pg_url)
    assert [c["algorithm"] for c in found] == ALGORITHMS
    assert all(c["samples"] == 500 for c in found)
    out = waldo(project, "results", "compare", "--format", "json", db=pg_url)
    assert all(p["prediction_agreement"] > 0.95 for p in json.loads(out.stdout))
