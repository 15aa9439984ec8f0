"""The cost of each DPO command as a shell script pays it: one process per command.

For every command of the seed's usage example (and its newer spellings), times the
``dpo`` console script against a SQLite journal (``--pg`` adds a PostgreSQL one) and,
interleaved with it in the same round, the baseline ``python -c pass`` (the interpreter's
own start-up, which no Python command line can avoid). Each round runs the whole
sequence once, in the order a pipeline would, on a small model folder (20 files).

    python benchmarks/bench_dpo_commands.py [--rounds 15] [--pg]

Prints, per command, the median wall time, the baseline's median and the difference
(what Waldo adds); the target is a difference of at most 250 ms on SQLite. On a machine
that other work keeps busy, wall times stretch with the load, so the CPU time of each
process (user + system, from ``getrusage``) is printed beside them: what the command
costs, which is what its wall time is on an idle core. Writes JSON to
``benchmarks/results/bench_dpo_commands.json``. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import fresh_pg_database, machine, median, table, write_results

TARGET_MS = 250.0
DPO = str(Path(sys.executable).with_name("dpo"))
# PYTHONDONTWRITEBYTECODE (set on some CI machines) would make every command compile
# Waldo's sources again: an installed package has its bytecode, which the warm-up
# round writes here.
ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "WALDO_DB_URL")}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], cwd: Path) -> tuple[float, float, str]:
    """Wall time, CPU time and stdout of one process."""
    cpu = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=ENV, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.strip()}")
    return elapsed, _children_cpu() - cpu, done.stdout.strip()


def make_models(root: Path) -> None:
    for index in range(20):
        folder = root / "models" / f"group{index % 2}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"model_{index:02d}.sql").write_text(f"select {index}")


def one_round(url: str, cwd: Path, times: dict[str, list[float]]) -> None:
    """The seed's usage example, then the newer step commands; the baseline before each."""
    ids: dict[str, str] = {}

    def run(label: str, *args: str) -> str:
        base, base_cpu, _ = timed([sys.executable, "-c", "pass"], cwd)
        times.setdefault("python -c pass", []).append(base)
        times.setdefault("python -c pass cpu", []).append(base_cpu)
        elapsed, cpu, out = timed([DPO, url, *args], cwd)
        times.setdefault(label, []).append(elapsed)
        times.setdefault(f"{label} cpu", []).append(cpu)
        return out

    ids["exec"] = run("init-execution", "init-execution")
    ids["last"] = run("get-last-successful-execution", "get-last-successful-execution")
    run("get-execution-last-updated-timestamp", "get-execution-last-updated-timestamp", ids["last"])
    run("persist-models", "persist-models", ids["exec"], "load", "models", "**/*.sql")
    run("compare-models", "compare-models", ids["last"], ids["exec"], "load")
    step = run("init-step", "init-step", ids["exec"], "transform", "models", "**/*.sql")
    run("compare-step-models", "compare-step-models", step, ids["last"])
    run("complete-step", "complete-step", step, "100")
    run("complete-execution", "complete-execution", ids["exec"])


def measure(url: str, rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench_dpo_") as folder:
        cwd = Path(folder)
        make_models(cwd)
        one_round(url.format(folder=folder), cwd, {})  # warm-up: creates the schema
        for _ in range(rounds):
            one_round(url.format(folder=folder), cwd, times)
    return times


def report(name: str, times: dict[str, list[float]]) -> tuple[str, list[dict[str, float]]]:
    """A table of medians: wall and CPU time, and what each adds to ``python -c pass``."""
    baseline = median(times["python -c pass"]) * 1000
    baseline_cpu = median(times["python -c pass cpu"]) * 1000
    rows, records = [], []
    for label in [k for k in times if not k.startswith("python -c pass") and " cpu" not in k]:
        wall, cpu = median(times[label]) * 1000, median(times[f"{label} cpu"]) * 1000
        added, added_cpu = wall - baseline, cpu - baseline_cpu
        verdict = "yes" if added_cpu <= TARGET_MS else "no"
        rows.append(
            [label, f"{wall:.0f}", f"{added:.0f}", f"{cpu:.0f}", f"{added_cpu:.0f}", verdict]
        )
        records.append({"command": label, "wall_ms": wall, "added_wall_ms": added, "cpu_ms": cpu})
    headers = [f"{name} command", "wall ms", "added", "CPU ms", "added CPU", "CPU <= 250"]
    note = f"python -c pass: {baseline:.0f} ms wall, {baseline_cpu:.0f} ms CPU (medians)"
    return f"{table(headers, rows)}\n{note}", records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--pg", action="store_true", help="Also measure on PostgreSQL.")
    args = parser.parse_args()
    if not shutil.which(DPO):
        raise SystemExit(f"{DPO} not found: pip install -e . first")
    results: dict[str, object] = {"machine": machine(), "rounds": args.rounds}
    text, results["SQLite"] = report(
        "SQLite", measure("sqlite:///{folder}/journal.db", args.rounds)
    )
    print(text, end="\n\n")
    if args.pg:
        with fresh_pg_database("bench_dpo") as url:
            text, results["PostgreSQL"] = report("PostgreSQL", measure(url, args.rounds))
        print(text, end="\n\n")
    write_results("bench_dpo_commands", results)


if __name__ == "__main__":
    main()
