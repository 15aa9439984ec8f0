"""The Kedro plugin's overhead counted, not timed: instructions and cache misses of the run.

Wall-clock ratios on a shared two-CPU VM move by one to five percent from one run of
``bench_plugin_overhead.py`` to the next (the host's speed drifts by 10 to 20 % within
seconds), more than most changes to the hooks. This script runs the same 1,000-node
project once per mode under Valgrind's callgrind (simulated L1 caches) and counts only
what ``session.run()`` executes, by thread:

- **the run**: the pipeline's thread from the start to the end of ``session.run()``
  (the driver calls it through ``operator.call``, a C function nothing else calls, and
  callgrind collects only inside it: ``--toggle-collect``), so Kedro's and Waldo's
  imports and the session's creation are left out;
- **other threads**: the whole life of every other Python thread (``thread_run``):
  Waldo's journal writer (it turns node records into rows, fingerprints what it was
  left and writes the batches), the git, connect and spool-replay threads. They hold
  the GIL while they execute, so on a CPU-bound pipeline their instructions add to
  the run's time as well.

For each it prints instructions, L1 instruction and data misses, and what they add to
*off* as a share of *off*'s run (instructions; and a cycle estimate of instructions /
2.4 + 14 per L1 miss). Counts move a little between two runs of the same code (the
writer's timer decides the batches): compare versions in the same invocation
(``--baseline-src``, counted side by side).

One distortion: the run takes about 25 times longer under Valgrind, so the journal
writer's half-second timer fires about 80 times instead of four, and each wake-up
costs a little (a heartbeat check, a small batch): *other threads* is counted
somewhat higher than it runs.

What it does not see: the database server (it runs natively, untraced, on the other
CPU), and how caches shared between the two CPUs behave. Use
``bench_plugin_overhead.py`` for the wall-clock figure.

    python benchmarks/count_plugin_overhead.py [--nodes 1000] [--modes off,on]
                                               [--baseline-src DIR]

``OPENBLAS_NUM_THREADS=1`` is set in every mode: numpy's OpenBLAS otherwise starts a
thread that spins for about 100 ms after import. Needs ``valgrind`` (about four minutes
a mode, two modes at a time).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from _common import table, write_results
from bench_plugin_overhead import import_sources, make_project, mode_env, parse_modes

# The driver of bench_plugin_overhead.py, with session.run() called through
# operator.call: callgrind collects the pipeline thread's instructions only in there.
RUN_ENTRY = "_operator_call"
THREAD_ENTRY = "thread_run"  # every Python thread but the main one, start to end
EVENTS = ("Ir", "I1mr", "D1mr", "D1mw")
COUNTED_DRIVER = "driver_counted.py"  # written into the project by write_driver
Counts = dict[str, dict[str, int]]  # "run" and "threads" -> event -> count


def write_driver(root: Path) -> None:
    """bench_plugin_overhead's driver, calling ``session.run`` through operator.call."""
    text = (root / "driver.py").read_text()
    text = text.replace("    session.run()", "    operator.call(session.run)")
    text = text.replace("import json,", "import operator, json,", 1)
    if "operator.call(session.run)" not in text or "import operator" not in text:
        raise SystemExit("the driver of bench_plugin_overhead.py changed: update write_driver")
    (root / COUNTED_DRIVER).write_text(text)


def count_once(root: Path, mode: str, store_url: str, src: str | None) -> Counts:
    env = {**mode_env(mode, store_url, src), "OPENBLAS_NUM_THREADS": "1"}
    out = root.parent / f"callgrind-{mode}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    proc = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--cache-sim=yes",
            "--separate-threads=yes",
            "--collect-atstart=no",
            f"--toggle-collect={RUN_ENTRY}",
            f"--toggle-collect={THREAD_ENTRY}",
            f"--callgrind-out-file={out}/callgrind.out",
            sys.executable,
            str(root / COUNTED_DRIVER),
            str(root),
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if proc.returncode != 0:
        raise SystemExit(f"driver failed under valgrind ({mode}):\n{proc.stderr[-2000:]}")
    counts: Counts = {"run": dict.fromkeys(EVENTS, 0), "threads": dict.fromkeys(EVENTS, 0)}
    for part in sorted(out.glob("callgrind.out-*")):
        text = part.read_text()
        events = re.search(r"^events:\s*(.+)$", text, re.M)
        summary = re.search(r"^(?:summary|totals):\s*(.+)$", text, re.M)
        if events is None or summary is None:
            raise SystemExit(f"no events or summary in {part}")
        # Trailing zero counts are left out of a callgrind summary line.
        names, numbers = events.group(1).split(), map(int, summary.group(1).split())
        values = dict(zip(names, numbers, strict=False))
        where = "run" if part.name.endswith("-01") else "threads"  # thread 1: main
        for event in EVENTS:
            counts[where][event] += values.get(event, 0)
    if counts["run"]["Ir"] == 0:
        raise SystemExit(f"nothing counted inside {RUN_ENTRY} ({mode}): is it still a C function?")
    return counts


def cycles(c: dict[str, int]) -> float:
    """A rough cycle estimate, the one that matched wall-clock overheads on this VM."""
    return c["Ir"] / 2.4 + 14 * (c["I1mr"] + c["D1mr"] + c["D1mw"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--modes", default="off,waldo_disable,on")
    parser.add_argument("--baseline-src", default=None, help="adds the mode on_baseline")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    modes = parse_modes(parser, args.modes, args.baseline_src)

    work = Path(tempfile.mkdtemp(prefix="waldo-count-overhead-"))
    try:
        root = make_project(work / "project", args.nodes)
        sources = import_sources(args.baseline_src, work)
        url = f"sqlite:///{work / 'journal.db'}"
        write_driver(root)
        # A first recording run per version creates the tables and compiles the
        # version's bytecode, so that no mode counts a migration or the compiling of
        # a module the hooks import during the run (a fresh copy has no .pyc yet).
        for src in {None, *sources.values()}:
            subprocess.run(
                [sys.executable, str(root / "driver.py"), str(root)],
                cwd=root,
                env=mode_env("on", url, src),
                capture_output=True,
                check=True,
            )
        # The recording modes first, so that on two CPUs ON and its baseline are counted
        # side by side: how a run's work splits between the pipeline's and the writer's
        # threads follows the writer's timer, i.e. how fast Valgrind runs beside what.
        order = sorted(modes, key=lambda mode: mode in ("off", "waldo_disable"))
        with ThreadPoolExecutor(max_workers=max(1, (os.cpu_count() or 1))) as pool:
            futures = {m: pool.submit(count_once, root, m, url, sources.get(m)) for m in order}
            counts = {mode: futures[mode].result() for mode in modes}
    finally:
        shutil.rmtree(work, ignore_errors=True)

    off = counts["off"]
    off_run, off_cycles = off["run"]["Ir"], cycles(off["run"])
    rows = []
    labels = {"run": "the run", "threads": "other threads", "total": "both"}
    for c in counts.values():
        c["total"] = {e: c["run"][e] + c["threads"][e] for e in EVENTS}
    for mode, c in counts.items():
        for where, label in labels.items():
            mine, base = c[where], off[where]
            rows.append(
                (
                    f"{mode}: {label}",
                    f"{mine['Ir'] / 1e6:,.0f}",
                    f"{(mine['Ir'] - base['Ir']) / 1e6:+,.1f}",
                    f"{(mine['I1mr'] - base['I1mr']) / 1e6:+.2f}",
                    f"{(mine['D1mr'] + mine['D1mw'] - base['D1mr'] - base['D1mw']) / 1e6:+.2f}",
                    f"{(mine['Ir'] - base['Ir']) / off_run:+.2%}",
                    f"{(cycles(mine) - cycles(base)) / off_cycles:+.2%}",
                )
            )
    print(f"\n{args.nodes} nodes, session.run() under callgrind (millions; shares of off's run)")
    headers = ("mode: what", "instructions", "vs off", "I1 misses", "D1 misses")
    print(table((*headers, "instr. / off run", "est. cycles / off run"), rows))
    results: dict[str, Any] = {"args": vars(args), "counts": counts}
    print(f"results: {write_results('count_plugin_overhead', results)}")


if __name__ == "__main__":
    main()
