"""Data checks: ten expectations on a 1,000,000-row frame, Waldo against GX by hand.

The same ten Great Expectations 1.x expectations on the same pandas DataFrame
(1,000,000 rows, five columns), timed in one process, interleaved round by round
(the order alternating):

- ``hand``: what a user writes to validate a frame with GX 1.x: an ephemeral context,
  a pandas data source with a whole-dataframe batch definition, a suite built from the
  expectation classes (all made once, before the rounds), then per round
  ``get_batch(dataframe)`` and ``batch.validate(suite)`` with Waldo's result format;
- ``waldo``: what the Kedro hook calls after a save, ``RunChecks.after_save``, on checks
  set up by ``start_checks`` from the same expectations written as ``checks:`` in
  waldo.yml (once, before the rounds): the validation, turning each result into a
  journal row and queueing it for the writer (a SQLite journal; the writer writes in
  the background, outside the timing, as in a run).

    python benchmarks/bench_checks.py [--rows 1000000] [--rounds 41]

Prints both medians, the median of the per-round ratios waldo/hand and its 90 %
bootstrap interval, of wall-clock time (the target: at most 1.1) and of the process's
CPU time (all its threads, the writer's included), which other processes on a shared
machine disturb less. Writes ``benchmarks/results/bench_checks.json``. Not part of the tests.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _common import machine, median, table, write_results
from bench_plugin_overhead import paired_interval

TARGET = 1.1
EXPECTATIONS: list[tuple[str, dict[str, Any]]] = [
    ("expect_column_values_to_not_be_null", {"column": "id"}),
    ("expect_column_values_to_be_unique", {"column": "id"}),
    ("expect_column_values_to_be_between", {"column": "rating", "min_value": 0, "max_value": 5}),
    ("expect_column_values_to_be_in_set", {"column": "city", "value_set": ["a", "b", "c"]}),
    ("expect_column_values_to_not_be_null", {"column": "amount"}),
    ("expect_column_mean_to_be_between", {"column": "amount", "min_value": 90, "max_value": 110}),
    ("expect_column_max_to_be_between", {"column": "rating", "max_value": 5}),
    ("expect_table_row_count_to_be_between", {"min_value": 1}),
    ("expect_table_column_count_to_equal", {"value": 5}),
    ("expect_column_values_to_be_of_type", {"column": "flag", "type_": "bool"}),
]


def make_frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(20261124)
    return pd.DataFrame(
        {
            "id": np.arange(rows),
            "rating": rng.uniform(0, 5, rows),
            "city": rng.choice(["a", "b", "c"], rows),
            "amount": rng.normal(100, 10, rows),
            "flag": rng.random(rows) < 0.5,
        }
    )


def hand_case() -> Callable[[pd.DataFrame], bool]:
    """GX 1.x as its documentation shows it, set up once."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    from waldo.kedro._gx import RESULT_FORMAT

    config = DataContextConfig(
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        store_backend_defaults=InMemoryStoreBackendDefaults(),
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    batches = (
        context.data_sources.add_pandas("hand")
        .add_dataframe_asset("frame")
        .add_batch_definition_whole_dataframe("whole")
    )
    suite = gx.ExpectationSuite(
        name="hand",
        expectations=[
            ExpectationConfiguration(type=name, kwargs=kwargs).to_domain_obj()
            for name, kwargs in EXPECTATIONS
        ],
    )

    def validate(frame: pd.DataFrame) -> bool:
        batch = batches.get_batch(batch_parameters={"dataframe": frame})
        return bool(batch.validate(suite, result_format=RESULT_FORMAT).success)

    return validate


def waldo_case(folder: Path) -> tuple[Callable[[pd.DataFrame], bool], Any]:
    """Checks set up as a run starts, from waldo.yml's form of the same expectations."""
    from kedro.pipeline import node, pipeline

    from waldo.journal import Recorder, resolve_settings
    from waldo.kedro._checks import pipeline_datasets, start_checks

    checks = {"frame": [{name: kwargs} for name, kwargs in EXPECTATIONS]}
    settings = resolve_settings(
        folder, {"store": f"sqlite:///{folder / 'waldo.db'}", "checks": checks}, environ={}
    )
    recorder = Recorder(settings)
    run = pipeline([node(lambda: None, None, "frame", name="make_frame")])
    run_checks = start_checks(recorder, "bench", pipeline_datasets(run), None)
    assert run_checks is not None

    def validate(frame: pd.DataFrame) -> bool:
        return run_checks.after_save("make_frame", "frame", frame, "v1") is None

    return validate, recorder


def paired(times: dict[str, list[float]]) -> tuple[float, float, float]:
    """The median of the per-round ratios waldo/hand, and its 90 % bootstrap interval."""
    ratios = [w / h for w, h in zip(times["waldo"], times["hand"], strict=True)]
    low, high = paired_interval(times["waldo"], times["hand"])
    return median(ratios), low, high


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=41)
    args = parser.parse_args()

    frame = make_frame(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        waldo, recorder = waldo_case(Path(tmp))
        cases = {"hand": hand_case(), "waldo": waldo}
        for validate in cases.values():  # warm-up; both pass every expectation
            assert validate(frame)
        wall: dict[str, list[float]] = {"hand": [], "waldo": []}
        cpu: dict[str, list[float]] = {"hand": [], "waldo": []}
        for round_ in range(args.rounds):
            order = ["hand", "waldo"] if round_ % 2 == 0 else ["waldo", "hand"]
            for name in order:
                started, started_cpu = time.perf_counter(), time.process_time()
                cases[name](frame)
                wall[name].append(time.perf_counter() - started)
                cpu[name].append(time.process_time() - started_cpu)
        recorder.flush()
        recorder.close()

    summary = {"wall": paired(wall), "cpu": paired(cpu)}
    rows = []
    for measure, times in (("wall", wall), ("cpu", cpu)):
        ratio, low, high = summary[measure]
        rows.append([f"GX by hand ({measure})", f"{median(times['hand']):.3f}", "1.00x"])
        rows.append(
            [
                f"waldo after_save ({measure})",
                f"{median(times['waldo']):.3f}",
                f"{ratio:.3f}x ({low:.3f}-{high:.3f})",
            ]
        )
    print(table(["case", "seconds (median)", "waldo/hand (90 % interval)"], rows))
    _, low, high = summary["wall"]
    met = "yes" if high <= TARGET else "NO" if low > TARGET else "undecided: more rounds"
    print(f"target waldo/hand <= {TARGET} (wall clock): {met}")
    path = write_results(
        "bench_checks",
        {
            "args": vars(args),
            "machine": machine(),
            "wall_seconds": wall,
            "cpu_seconds": cpu,
            "paired": summary,
            "target": TARGET,
            "met": met,
        },
    )
    print(f"results: {path}")


if __name__ == "__main__":
    main()
