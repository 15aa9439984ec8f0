"""The results store API on SQLite and PostgreSQL: save, find, top-k, compare."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from scipy.stats import spearmanr

from tests.helpers.journal import record_run, settings_for
from waldo import ContextNotFound, InvalidInput, Results
from waldo.journal import get_recorder, spearman
from waldo.store import Store


def test_spearman_matches_scipy_with_ties() -> None:
    rng = random.Random(3)
    xs = [rng.choice([0.1, 0.2, 0.3, 0.4]) for _ in range(300)]
    ys = [x + rng.gauss(0, 0.2) for x in xs]
    assert spearman(xs, ys) == pytest.approx(spearmanr(xs, ys).statistic, abs=1e-12)
    assert spearman([1.0, 2.0, 3.0], [3.0, 2.0, 1.0]) == pytest.approx(-1.0)
    assert spearman([1.0, 1.0], [1.0, 2.0]) is None  # a constant side has no ranking
    assert spearman([1.0], [2.0]) is None


def test_scores_are_saved_under_a_context_and_read_back(store_url: str) -> None:
    api = Results(Store(store_url))
    ids = list(range(1, 1001))
    scores = [float(i % 97) for i in ids]
    context_id = api.save_scores(
        algorithm="isolation_forest",
        sample_ids=ids,
        scores=scores,
        predictions=[s > 90 for s in scores],
        parameters={"n_estimators": 100, "contamination": 0.05},
        run_id="run-1",
    )
    context = api.context(context_id)
    assert context.algorithm == "isolation_forest" and context.run_id == "run-1"
    assert context.parameters == {"contamination": 0.05, "n_estimators": 100}
    assert context.samples == 1000
    assert context.outliers == sum(s > 90 for s in scores)

    got_ids, got_scores, got_preds = api.score_columns(context_id)
    assert got_ids == ids and got_scores == scores
    assert got_preds == [s > 90 for s in scores]

    top = api.top("isolation_forest", k=3)
    assert [row["score"] for row in top] == [96.0, 96.0, 96.0]
    assert [row["sample_id"] for row in top] == [96, 193, 290]  # ties by sample id
    lowest = api.top(context_id, k=2, ascending=True)
    assert [row["score"] for row in lowest] == [0.0, 0.0]


def test_samples_keep_their_other_columns_and_are_upserted(store_url: str) -> None:
    api = Results(Store(store_url))
    api.save_samples([1, 2], [{"x": 1.5, "label": "a"}, {"x": -2.0, "label": "b"}])
    api.save_samples([2, 3], [{"x": 9.0, "label": "b2"}, {}])
    assert api.samples() == [
        (1, {"label": "a", "x": 1.5}),
        (2, {"label": "b2", "x": 9.0}),
        (3, None),
    ]
    api.save_scores(algorithm="lof", sample_ids=[1, 2], scores=[0.5, 2.5])
    top = api.top("lof", k=1)
    assert top[0]["sample_id"] == 2 and top[0]["data"] == {"label": "b2", "x": 9.0}


def test_two_contexts_compared(store_url: str) -> None:
    api = Results(Store(store_url))
    rng = random.Random(11)
    ids = list(range(500))
    a_scores = [rng.random() for _ in ids]
    b_scores = [s + rng.gauss(0, 0.1) for s in a_scores]
    a_pred = [s > 0.9 for s in a_scores]
    b_pred = [s > 0.9 for s in b_scores]
    a = api.save_scores(algorithm="a", sample_ids=ids, scores=a_scores, predictions=a_pred)
    # b scored only the first 400 samples: compared over the 400 both scored
    api.save_scores(
        algorithm="b", sample_ids=ids[:400], scores=b_scores[:400], predictions=b_pred[:400]
    )
    result = api.compare(a, "b", top_k=20)
    assert result.common == 400
    expected = spearmanr(a_scores[:400], b_scores[:400]).statistic
    assert result.spearman == pytest.approx(expected, abs=1e-12)
    same = sum(x == y for x, y in zip(a_pred[:400], b_pred[:400], strict=True))
    assert result.agreement == pytest.approx(same / 400)
    assert result.both_outliers == sum(x and y for x, y in zip(a_pred, b_pred[:400], strict=False))
    assert result.both_outliers + result.only_a + result.only_b + result.neither == 400
    top_a = set(sorted(ids, key=lambda i: -a_scores[i])[:20])
    top_b = set(sorted(ids[:400], key=lambda i: -b_scores[i])[:20])
    assert result.top_overlap == len(top_a & top_b)
    assert result.to_dict()["prediction_agreement"] == result.agreement


def test_contexts_by_run_and_algorithm(store_url: str, tmp_path: Path) -> None:
    recorder = get_recorder(settings_for(store_url, tmp_path))
    record_run(recorder, "2026-11-20T10.00.00.000Z")
    record_run(recorder, "2026-11-21T10.00.00.000Z")
    api = Results(Store(store_url))
    first = api.save_scores(
        algorithm="iforest", sample_ids=[1], scores=[1.0], run_id="2026-11-20T10.00.00.000Z"
    )
    second = api.save_scores(
        algorithm="iforest", sample_ids=[1], scores=[2.0], run_id="2026-11-21T10.00.00.000Z"
    )
    assert api.context("iforest").id == second  # the newest
    assert api.context("2026-11-20:iforest").id == first  # a run prefix
    assert [c.id for c in api.contexts(run="2026-11-21T10.00.00.000Z")] == [second]
    assert [c.id for c in api.contexts(algorithm="iforest")] == [second, first]


def test_bad_references_and_inputs_are_one_line_errors(store_url: str) -> None:
    api = Results(Store(store_url))
    with pytest.raises(ContextNotFound, match="No results context 42"):
        api.context(42)
    with pytest.raises(ContextNotFound, match="algorithm 'nope'"):
        api.context("nope")
    with pytest.raises(InvalidInput, match="2 sample ids, 1 scores"):
        api.save_scores(algorithm="x", sample_ids=[1, 2], scores=[1.0])
    with pytest.raises(InvalidInput, match="unique"):
        api.save_scores(algorithm="x", sample_ids=[1, 1], scores=[1.0, 2.0])
    assert api.contexts() == []  # nothing half-written
