"""The cost of each DPO command as a shell script pays it: one process per command.

For every command of the seed's usage example (and its newer spellings), times the
``dpo`` console script against a SQLite journal (``--pg`` adds a PostgreSQL one) and,
interleaved with it in the same round, the baseline ``python -c pass`` (the interpreter's
own start-up, which no Python command line can avoid). Each round runs the whole
sequence once, in the order a pipeline would, on a small model folder (20 files).

    python benchmarks/bench_dpo_commands.py [--rounds 15] [--pg]

Prints, per command, the median of its paired differences with the baseline run just
before it (what Waldo adds), in wall time and in CPU time (user + system, from
``getrusage``), and whether each meets the target: at most 250 ms added on SQLite. On a
machine that other work keeps busy wall times stretch with the load; CPU time is what
the command's wall time is on an idle core. Writes JSON to
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
from typing import Any

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


Times = dict[str, list[tuple[float, float]]]  # command -> (added wall, added CPU) per round


def one_round(url: str, cwd: Path, added: Times) -> None:
    """The seed's usage example, then the newer step commands; the baseline before each."""
    ids: dict[str, str] = {}

    def run(label: str, *args: str) -> str:
        base, base_cpu, _ = timed([sys.executable, "-c", "pass"], cwd)
        elapsed, cpu, out = timed([DPO, url, *args], cwd)
        added.setdefault("python -c pass", []).append((base, base_cpu))
        added.setdefault(label, []).append((elapsed - base, cpu - base_cpu))
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


def measure(url: str, rounds: int) -> Times:
    added: Times = {}
    with tempfile.TemporaryDirectory(prefix="bench_dpo_") as folder:
        cwd = Path(folder)
        make_models(cwd)
        one_round(url.format(folder=folder), cwd, {})  # warm-up: creates the schema
        for _ in range(rounds):
            one_round(url.format(folder=folder), cwd, added)
    return added


def _verdict(added_ms: float) -> str:
    return "met" if added_ms <= TARGET_MS else "not met"


def report(name: str, added: Times) -> tuple[str, list[dict[str, Any]]]:
    """Medians of the paired differences per command, and the verdict on the target."""
    base = added.pop("python -c pass")
    base_wall = median([wall for wall, _ in base]) * 1000
    base_cpu = median([cpu for _, cpu in base]) * 1000
    rows, records = [], []
    for label, pairs in added.items():
        wall = median([w for w, _ in pairs]) * 1000
        cpu = median([c for _, c in pairs]) * 1000
        rows.append([label, f"{wall:.0f}", f"{cpu:.0f}", _verdict(wall), _verdict(cpu)])
        records.append({"command": label, "added_wall_ms": wall, "added_cpu_ms": cpu})
    headers = [f"{name} command", "added wall ms", "added CPU ms", "wall", "CPU"]
    worst_wall = max(r["added_wall_ms"] for r in records)
    worst_cpu = max(r["added_cpu_ms"] for r in records)
    note = (
        f"python -c pass: {base_wall:.0f} ms wall, {base_cpu:.0f} ms CPU (medians); load "
        f"average {os.getloadavg()[0]:.1f}. Target (at most {TARGET_MS:.0f} ms added per "
        f"command): {_verdict(worst_wall)} in wall time (slowest {worst_wall:.0f} ms), "
        f"{_verdict(worst_cpu)} in CPU time (slowest {worst_cpu:.0f} ms)."
    )
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
