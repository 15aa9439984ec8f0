"""``ScoresDataset``'s ``load_args``: which saved scores a load returns."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from kedro.io import DatasetError

from tests.helpers.journal import record_run, recorder_for
from waldo.kedro import ScoresDataset
from waldo.kedro._run import RUN_CONTEXT_ENV


def save_in_run(
    monkeypatch: pytest.MonkeyPatch, url: str, run_id: str, scores: list[float]
) -> None:
    """Save scores as a node of run ``run_id`` would (the run context in the environment)."""
    monkeypatch.setenv(RUN_CONTEXT_ENV, json.dumps({"run_id": run_id, "store_url": url}))
    frame = pd.DataFrame({"sample_id": range(len(scores)), "score": scores})
    ScoresDataset(algorithm="iforest").save(frame)
    monkeypatch.delenv(RUN_CONTEXT_ENV)


@pytest.fixture
def two_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'waldo.db'}"
    recorder = recorder_for(url, tmp_path)
    for run_id in ("run-one", "run-two"):
        record_run(recorder, run_id, nodes=["detect"])
    save_in_run(monkeypatch, url, "run-one", [0.1, 0.2])
    save_in_run(monkeypatch, url, "run-two", [0.7, 0.8, 0.9])
    return url


def load(url: str, **load_args: object) -> pd.DataFrame:
    return ScoresDataset(
        algorithm="iforest", credentials={"con": url}, load_args=dict(load_args)
    ).load()


def test_without_load_args_the_newest_scores_load(two_runs: str) -> None:
    frame = load(two_runs)
    assert set(frame["run_id"]) == {"run-two"}
    assert frame["score"].tolist() == [0.7, 0.8, 0.9]


def test_run_picks_the_scores_that_run_saved(two_runs: str) -> None:
    frame = load(two_runs, run="run-one")
    assert set(frame["run_id"]) == {"run-one"}
    assert frame["score"].tolist() == [0.1, 0.2]
    assert load(two_runs, run="latest")["run_id"].iloc[0] == "run-two"


def test_context_picks_one_context_by_id_or_by_run_and_algorithm(two_runs: str) -> None:
    first = load(two_runs, run="run-one")["context_id"].iloc[0]
    by_id = load(two_runs, context=int(first))
    assert set(by_id["run_id"]) == {"run-one"} and len(by_id) == 2
    by_name = load(two_runs, context="run-two:iforest")
    assert by_name["score"].tolist() == [0.7, 0.8, 0.9]


def test_a_run_or_context_that_does_not_exist_is_a_dataset_error(two_runs: str) -> None:
    with pytest.raises(DatasetError, match="nope"):
        load(two_runs, run="nope")
    with pytest.raises(DatasetError, match="No results context 999"):
        load(two_runs, context=999)
