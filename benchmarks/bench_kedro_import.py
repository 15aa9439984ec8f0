"""What Waldo's ``kedro`` entry points cost Kedro's start-up, by ``python -X importtime``.

Kedro imports every plugin's entry points when it starts, for ``kedro --help`` as for
``kedro run``. Each round starts fresh interpreters, interleaved, that first import what
Kedro has loaded by then (``kedro.framework.cli.cli``, ``kedro.framework.hooks``), then
one module, and sums the cumulative ``importtime`` of what that import added:

- ``waldo.kedro._plugin``: the module of Waldo's entry points (the target: at most 30 ms);
- ``waldo.cli``: what the ``kedro.project_commands`` entry point imported before it
  deferred the command line (for comparison);
- ``waldo.kedro.hooks``: what ``kedro run`` then imports on its first hook, the recorder
  (SQLAlchemy among it), with the session and pandas already loaded as in a run;
- ``kedro.framework.cli.cli`` from nothing: Kedro's own command line, for scale.

    python benchmarks/bench_kedro_import.py [--rounds 15]

Prints median milliseconds (``importtime`` adds a little to each module) and writes
``benchmarks/results/bench_kedro_import.json``. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from _common import median, table, write_results

TARGET_MS = 30.0
KEDRO_CLI = ("kedro.framework.cli.cli", "kedro.framework.hooks")
KEDRO_RUN = (*KEDRO_CLI, "kedro.framework.session", "kedro.runner", "pandas")
CASES = {
    "Waldo's entry points": (KEDRO_CLI, "waldo.kedro._plugin"),
    "before: the CLI entry point": (KEDRO_CLI, "waldo.cli"),
    "kedro run, first hook": (KEDRO_RUN, "waldo.kedro.hooks"),
    "Kedro's command line": ((), "kedro.framework.cli.cli"),
}
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def added_ms(loaded: tuple[str, ...], module: str) -> float:
    """Milliseconds ``import module`` takes after ``loaded``, summed over the top-level
    entries ``importtime`` prints for it."""
    code = "".join(f"import {name}\n" for name in loaded)
    code += f"import sys; sys.stderr.write('<<\\n'); import {module}\n"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        env=ENV,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = done.stderr.split("<<\n", 1)[1].splitlines()
    total = 0
    for line in lines:
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.split("|")
        if not name.startswith("  "):  # a top-level entry: what `import module` caused
            total += int(cumulative)
    return total / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    times: dict[str, list[float]] = {label: [] for label in CASES}
    for loaded, module in CASES.values():
        added_ms(loaded, module)  # warm-up: bytecode written, files in the page cache
    for _ in range(args.rounds):
        for label, (loaded, module) in CASES.items():
            times[label].append(added_ms(loaded, module))
    rows, records = [], []
    for label, (_, module) in CASES.items():
        ms = median(times[label])
        verdict = ("met" if ms <= TARGET_MS else "not met") if module.endswith("_plugin") else ""
        rows.append([label, f"`{module}`", f"{ms:.1f}", verdict])
        records.append({"case": label, "module": module, "median_ms": ms})
    print(table(["import", "module", "ms", f"<= {TARGET_MS:.0f} ms"], rows))
    write_results("bench_kedro_import", {"rounds": args.rounds, "cases": records})


if __name__ == "__main__":
    main()
