"""Data fingerprint throughput: a numeric pandas DataFrame of >= 500 MB.

Builds a DataFrame of COLUMNS float64 columns x ROWS rows (default 8 x 8,000,000:
512 MB of values, random numbers so no hash can take a shortcut) and times, in the
same process and interleaved round by round:

- ``waldo.fingerprint.data_fingerprint(df)``: xxh3-128 over each column's buffer, plus
  column names, dtypes, shape and the index;
- ``pandas.util.hash_pandas_object(df)``: pandas' own row hashing (one uint64 per row,
  index included), the usual way to "hash a DataFrame";
- ``hashlib.md5`` over the same bytes: the raw column buffers (``df[c].to_numpy()``),
  fed one column after the other.

    python benchmarks/bench_fingerprint.py [--rows 8000000] [--columns 8] [--repeat 5]

Prints median GB/s (of the 8-byte values, GB = 10**9 bytes) and the ratio to each
baseline (target: Waldo >= 5 GB/s); writes ``benchmarks/results/bench_fingerprint.json``.
Not part of the tests.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from _common import median, table, write_results

from waldo.fingerprint import data_fingerprint

TARGET_GBPS = 5.0


def make_frame(rows: int, columns: int) -> pd.DataFrame:
    rng = np.random.default_rng(20261123)
    return pd.DataFrame({f"c{i}": rng.random(rows) for i in range(columns)})


def waldo_case(df: pd.DataFrame) -> Any:
    fingerprint = data_fingerprint(df)
    assert fingerprint.known, fingerprint
    return fingerprint.digest


def pandas_case(df: pd.DataFrame) -> Any:
    return pd.util.hash_pandas_object(df)


def md5_case(df: pd.DataFrame) -> Any:
    h = hashlib.md5()
    for name in df.columns:
        h.update(memoryview(np.ascontiguousarray(df[name].to_numpy())).cast("B"))
    return h.hexdigest()


CASES: dict[str, tuple[str, Callable[[pd.DataFrame], Any]]] = {
    "waldo": ("waldo data_fingerprint (xxh3-128)", waldo_case),
    "pandas": ("pandas.util.hash_pandas_object", pandas_case),
    "md5": ("hashlib.md5 over the column buffers", md5_case),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=8_000_000)
    parser.add_argument("--columns", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    df = make_frame(args.rows, args.columns)
    nbytes = sum(df[c].to_numpy().nbytes for c in df.columns)
    print(f"DataFrame {args.columns} x {args.rows:,} float64: {nbytes / 1e6:,.0f} MB", flush=True)

    # Same data, same digest: a copy (new buffers) must fingerprint equally.
    first = waldo_case(df)
    assert waldo_case(df.copy()) == first, "equal data gave different fingerprints"
    for _, func in CASES.values():  # warm-up: imports, page faults
        func(df)

    times: dict[str, list[float]] = {key: [] for key in CASES}
    for round_ in range(args.repeat):
        for key, (_, func) in CASES.items():
            start = time.perf_counter()
            func(df)
            times[key].append(time.perf_counter() - start)
        print(
            f"  round {round_ + 1}: " + ", ".join(f"{key} {times[key][-1]:.3f} s" for key in CASES),
            flush=True,
        )

    medians = {key: median(values) for key, values in times.items()}
    gbps = {key: nbytes / seconds / 1e9 for key, seconds in medians.items()}
    rows = []
    for key, (label, _) in CASES.items():
        verdict = ""
        if key == "waldo":
            verdict = f">= {TARGET_GBPS:g} GB/s: {'yes' if gbps[key] >= TARGET_GBPS else 'NO'}"
        rows.append(
            (
                label,
                f"{medians[key]:.3f}",
                f"{gbps[key]:.2f}",
                f"{gbps['waldo'] / gbps[key]:.1f}x",
                verdict,
            )
        )
    print(f"\n{nbytes / 1e6:,.0f} MB, median of {args.repeat} interleaved rounds")
    print(table(("case", "seconds", "GB/s", "waldo is", "target"), rows))
    path = write_results(
        "bench_fingerprint",
        {
            "args": vars(args),
            "bytes": nbytes,
            "times": times,
            "medians": medians,
            "gbps": gbps,
            "target_gbps": TARGET_GBPS,
            "waldo_digest": first,
        },
    )
    print(f"results: {path}")


if __name__ == "__main__":
    main()
