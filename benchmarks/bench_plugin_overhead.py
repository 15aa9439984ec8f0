"""Plugin overhead: a 1,000-node trivial Kedro pipeline with the Waldo hooks on and off.

Writes a Kedro project by hand in a temporary folder: NODES nodes in a chain, each a
trivial function (``x + 1``) reading the previous node's output from a MemoryDataset
(node 0 reads ``params:start``). Every measurement is a fresh Python process, timed
one of two ways (``--measures``):

- ``cli``: the whole ``kedro run`` command as a user types it, wall time from start to
  exit, with Kedro's default logging (a line per node start and end): what the issue's
  "wall-time ratio" of a run reads as, and what a user waits for, Waldo's import,
  start-up and exit included;
- ``session``: a small driver does ``bootstrap_project`` + ``KedroSession.create(...)``
  and times only ``session.run()``, with INFO logging off (interpreter start-up,
  imports, exit and Kedro's per-node log lines are not counted; the run's own hook
  work is, including Waldo's final flush of the journal at ``after_pipeline_run``):
  the strictest reading, the same per-node cost over the leanest baseline.

Modes, alternated within each round, each round starting with the next mode (ON, OFF,
DISABLE; OFF, DISABLE, ON; ...), after one warm-up of each (the first ON run creates
the tables):

- ``on``: the plugin as installed, recording into the backend;
- ``off``: ``DISABLE_HOOKS_FOR_PLUGINS = ("waldo",)`` in ``settings.py``: Kedro does not
  register Waldo's hooks at all; this is the baseline;
- ``waldo_disable``: ``WALDO_DISABLE=1``: the hooks stay registered and Kedro still
  calls all of them (pluggy dispatch, plus Waldo reading its configuration once); each
  body returns at once. Shown to tell what the environment variable costs.
- ``on_baseline`` (with ``--baseline-src DIR``): the plugin on, but the ``waldo`` package
  imported from ``DIR`` (put first on ``PYTHONPATH``), e.g. ``git archive main src |
  tar -x -C /tmp/base`` then ``--baseline-src /tmp/base/src``: an A/B of two versions
  of Waldo in the same rounds. ``on`` is then imported the same way, from a copy of
  this checkout's ``src`` (:func:`import_sources`), so both pay the same for the extra
  folder on the path: compare ``on`` with ``on_baseline``, not with the target.

Backends: a SQLite file in the project, and a fresh PostgreSQL database created on the
server (``WALDO_BENCH_PG_URL``, default ``postgresql://postgres@127.0.0.1:5432/test``)
and dropped afterwards.

    python benchmarks/bench_plugin_overhead.py [--nodes 1000] [--repeat 5]
                                               [--measures cli,session]
                                               [--backends sqlite,postgresql]
                                               [--modes on,off,waldo_disable]
                                               [--baseline-src DIR]

Prints median seconds per measure and mode, the ratio of medians to ``off``, the median of the
per-round ratios (*paired*) and a 90 % bootstrap interval of it. The guard (ON/OFF <=
1.10) is judged on that interval: met when all of it is under 1.10, missed when all of
it is above, otherwise undecided (on a noisy machine: more rounds, ``--modes on,off``
to fit more of them in an hour). Writes JSON to
``benchmarks/results/bench_plugin_overhead.json``. Not part of the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import fresh_pg_database, median, table, write_results

from waldo.kedro._project import kedro_env, write_project

TARGET = 1.10  # a regression guard: bench_realistic.py holds the 1.03 target
REPO_SRC = Path(__file__).resolve().parents[1] / "src"
MODES = ("on", "off", "waldo_disable")
MEASURES = ("cli", "session")

NODES_PY = """
def step(x):
    return x + 1
"""

REGISTRY_PY = """
from kedro.pipeline import Pipeline, node, pipeline

from overhead_proj.nodes import step

NODES = {nodes}


def register_pipelines() -> dict[str, Pipeline]:
    nodes = [node(step, "params:start", "d0", name="n0")]
    nodes += [node(step, f"d{{i - 1}}", f"d{{i}}", name=f"n{{i}}") for i in range(1, NODES)]
    chain = pipeline(nodes)
    return {{"__default__": chain}}
"""

SETTINGS_PY = '''
"""Project settings: the benchmark turns the Waldo plugin off through Kedro itself."""
import os

if os.environ.get("BENCH_WALDO_OFF"):
    DISABLE_HOOKS_FOR_PLUGINS = ("waldo",)
'''

DRIVER = """
import json, logging, sys, time
from pathlib import Path

from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

logging.disable(logging.INFO)  # no per-node log lines: they would dwarf both modes
root = Path(sys.argv[1])
bootstrap_project(root)
with KedroSession.create(project_path=root) as session:
    hooks = [p for p in session._hook_manager.get_plugins() if "waldo" in type(p).__module__]
    start = time.perf_counter()
    session.run()
    elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "waldo_hooks_registered": bool(hooks)}))
"""


def make_project(root: Path, nodes: int) -> Path:
    write_project(
        root,
        "overhead_proj",
        nodes_py=NODES_PY,
        registry_py=REGISTRY_PY.format(nodes=nodes),
        parameters_yml="start: 0\n",
        settings_py=SETTINGS_PY,
    )
    (root / "driver.py").write_text(DRIVER)
    return root


def mode_env(mode: str, store_url: str, src: str | None = None) -> dict[str, str]:
    """The driver's environment for one mode (see the module docstring); ``src``, a
    folder to import ``waldo`` from first (:func:`import_sources`)."""
    env = kedro_env()
    # PYTHONDONTWRITEBYTECODE (set on some CI machines) would make every run, and every
    # writer helper, compile Waldo's and the project's sources again: an installed
    # package has its bytecode cached, which the warm-up runs write here.
    for name in (
        "BENCH_WALDO_OFF",
        "WALDO_DISABLE",
        "WALDO_RUN_CONTEXT",
        "PYTHONDONTWRITEBYTECODE",
    ):
        env.pop(name, None)
    env["WALDO_DB_URL"] = store_url
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    if mode == "off":
        env["BENCH_WALDO_OFF"] = "1"
    elif mode == "waldo_disable":
        env["WALDO_DISABLE"] = "1"
    return env


def import_sources(baseline_src: str | None, work: Path) -> dict[str, str]:
    """Where each recording mode imports ``waldo`` from: nothing to change without
    ``--baseline-src``; with it, both versions from a folder first on ``PYTHONPATH``
    (ON from a copy of this checkout's ``src``), so that both pay the same for it.
    When only the baseline came through ``PYTHONPATH``, an A/A run of two identical
    copies measured it 1 % slower (paired 1.011, interval 1.002-1.015, 31 rounds);
    through this, 0.996 (0.992-1.001): a difference under half a percent is noise."""
    if not baseline_src:
        return {}
    candidate = work / "candidate_src"
    shutil.copytree(REPO_SRC, candidate, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return {"on": str(candidate), "on_baseline": baseline_src}


def kedro_command() -> list[str]:
    """``kedro`` as installed next to this Python (``python -m kedro`` otherwise)."""
    script = Path(sys.executable).with_name("kedro")
    return [str(script)] if script.exists() else [sys.executable, "-m", "kedro"]


def run_once(
    root: Path, mode: str, store_url: str, src: str | None = None, measure: str = "session"
) -> dict[str, Any]:
    """One measurement in a new process: ``session`` (the driver times
    ``session.run()``) or ``cli`` (``kedro run`` timed from start to exit)."""
    env = mode_env(mode, store_url, src)
    command = (
        [*kedro_command(), "run"]
        if measure == "cli"
        else [sys.executable, str(root / "driver.py"), str(root)]
    )
    started = time.perf_counter()
    proc = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=900)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{measure} run failed ({mode}):\n{proc.stdout}\n{proc.stderr}")
    # A recording warning means the ON figures are not real (Kedro's console handler
    # wraps long lines: look at the words).
    if "waldo:" in " ".join((proc.stdout + proc.stderr).split()):
        raise SystemExit(f"waldo warned ({mode}):\n{proc.stdout}\n{proc.stderr}")
    if measure == "cli":  # the recorded runs are counted at the end (recorded_runs)
        return {"seconds": elapsed}
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    expected = mode != "off"
    assert result["waldo_hooks_registered"] is expected, (mode, result)
    return result


def recorded_runs(store_url: str) -> int:
    from waldo.store import Store

    store = Store(store_url)
    try:
        with store.engine.connect() as conn:
            prefix = "waldo." if store.dialect == "postgresql" else ""
            runs = conn.exec_driver_sql(
                f"SELECT count(*) FROM {prefix}runs WHERE status = 'success'"
            ).scalar_one()
        return int(runs)
    finally:
        store.dispose()


def _round_ratios(mode_times: list[float], off_times: list[float]) -> list[float]:
    """Each round's time of a mode over its time of *off* (run back to back)."""
    return [a / b for a, b in zip(mode_times, off_times, strict=True)]


def _paired(mode_times: list[float], off_times: list[float]) -> float:
    """Median of the per-round ratios: each round's modes run back to back, so this
    follows the machine's drift from round to round better than a ratio of medians."""
    return median(_round_ratios(mode_times, off_times))


def paired_interval(
    mode_times: list[float], off_times: list[float], draws: int = 2000
) -> tuple[float, float]:
    """A 90 % bootstrap interval of the paired ratio: the rounds resampled with
    replacement ``draws`` times (fixed seed). On a VM whose speed drifts by up to a
    factor of two within seconds (``probe_machine.py``), a median says little
    without the spread it could have. The resampling takes rounds as independent;
    when the drift makes neighbouring rounds alike the true spread is wider (two
    runs of 61 and 101 rounds gave SQLite intervals that did not overlap)."""
    ratios = _round_ratios(mode_times, off_times)
    rng = random.Random(0)
    medians = sorted(median(rng.choices(ratios, k=len(ratios))) for _ in range(draws))
    return medians[int(0.05 * draws)], medians[int(0.95 * draws) - 1]


def verdict(interval: tuple[float, float]) -> str:
    """Met only if the whole interval is at or under the target; not met only if all
    of it is above; otherwise the rounds could not tell (run more of them)."""
    low, high = interval
    if high <= TARGET:
        return "yes"
    if low > TARGET:
        return "NO"
    return "undecided: more rounds"


def parse_modes(parser: argparse.ArgumentParser, text: str, baseline_src: str | None) -> list[str]:
    """The modes named in ``--modes`` (comma-separated), ``off`` first if left out
    (every ratio is to it), ``on_baseline`` added with ``--baseline-src``; an unknown
    name is a usage error rather than a run measured under a typo."""
    modes = [mode for mode in text.split(",") if mode]
    if unknown := set(modes) - set(MODES):
        parser.error(f"unknown mode(s) {', '.join(sorted(unknown))}: choose from {MODES}")
    if "off" not in modes:
        modes.insert(0, "off")
    if baseline_src:
        modes.append("on_baseline")
    return modes


def bench_backend(
    root: Path, store_url: str, args: argparse.Namespace, measure: str
) -> dict[str, Any]:
    modes = args.modes
    times: dict[str, list[float]] = {mode: [] for mode in modes}

    def once(mode: str) -> float:
        return float(run_once(root, mode, store_url, args.sources.get(mode), measure)["seconds"])

    for mode in modes:  # warm-up: tables, page cache, .pyc files
        once(mode)
    for round_ in range(args.repeat):
        # Each round starts with the next mode: no mode always runs first (after the
        # pause between rounds) or always right after a recording run's writes.
        for mode in modes[round_ % len(modes) :] + modes[: round_ % len(modes)]:
            times[mode].append(once(mode))
        print(
            f"  round {round_ + 1}: "
            + ", ".join(f"{mode} {times[mode][-1]:.3f} s" for mode in modes),
            flush=True,
        )
    recording = sum(mode in ("on", "on_baseline") for mode in modes)
    runs = recorded_runs(store_url)
    expected = recording * (args.repeat + 1)
    assert runs == expected, f"{runs} runs recorded, expected {expected}"
    medians = {mode: median(values) for mode, values in times.items()}
    measured = [mode for mode in modes if mode != "off"]
    return {
        "times": times,
        "medians": medians,
        **{f"ratio_{mode}_off": medians[mode] / medians["off"] for mode in measured},
        **{f"min_ratio_{mode}_off": min(times[mode]) / min(times["off"]) for mode in measured},
        "paired": {mode: _paired(times[mode], times["off"]) for mode in modes},
        "paired_interval": {mode: paired_interval(times[mode], times["off"]) for mode in measured},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--measures",
        default=",".join(MEASURES),
        help="cli: the whole `kedro run` command, default logging; "
        "session: session.run() only, INFO logging off (see the module docstring)",
    )
    parser.add_argument(
        "--modes",
        default=",".join(MODES),
        help="the modes to alternate (off is always one): e.g. on,off for more rounds an hour",
    )
    parser.add_argument(
        "--baseline-src",
        default=None,
        help="a folder holding another version's waldo package, measured as on_baseline",
    )
    args = parser.parse_args()
    args.modes = parse_modes(parser, args.modes, args.baseline_src)
    args.measures = [m for m in args.measures.split(",") if m]
    if unknown := set(args.measures) - set(MEASURES):
        parser.error(f"unknown measure(s) {', '.join(sorted(unknown))}: choose from {MEASURES}")

    results: dict[str, Any] = {}
    work = Path(tempfile.mkdtemp(prefix="waldo-bench-overhead-"))
    try:
        root = make_project(work / "project", args.nodes)
        args.sources = import_sources(args.baseline_src, work)
        for measure in args.measures:
            for backend in args.backends.split(","):
                print(f"{measure}, {backend}: {args.nodes} nodes, {args.repeat} rounds", flush=True)
                key = f"{measure}/{backend}"
                if backend == "sqlite":
                    url = f"sqlite:///{work / f'journal-{measure}.db'}"
                    results[key] = bench_backend(root, url, args, measure)
                else:
                    with fresh_pg_database("waldo_bench_overhead") as url:
                        results[key] = bench_backend(root, url, args, measure)
                shutil.rmtree(root / ".waldo", ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    rows = []
    labels = {
        "off": "plugin off (DISABLE_HOOKS_FOR_PLUGINS)",
        "waldo_disable": "WALDO_DISABLE=1 (hooks called, bodies skipped)",
        "on": "plugin on (recording)",
        "on_baseline": "plugin on, baseline version (--baseline-src)",
    }
    for backend, r in results.items():
        for mode in ("off", "waldo_disable", "on_baseline", "on"):
            if mode not in r["medians"]:
                continue
            ratio = r["medians"][mode] / r["medians"]["off"]
            interval = r["paired_interval"].get(mode)
            rows.append(
                (
                    f"{backend}: {labels[mode]}",
                    f"{r['medians'][mode]:.3f}",
                    f"{ratio:.3f}",
                    f"{r['paired'][mode]:.3f}",
                    f"{interval[0]:.3f}-{interval[1]:.3f}" if interval else "",
                    verdict(interval) if interval and mode in ("on", "on_baseline") else "",
                )
            )
    print(
        f"\n{args.nodes} nodes, median seconds of {args.repeat} rounds "
        "(cli: `kedro run` start to exit; session: session.run() only)"
    )
    print(table(("case", "seconds", "vs off", "paired", "90 % interval", f"<= {TARGET}"), rows))
    print(
        "paired: median of the per-round ratios to off; its 90 % interval: the rounds "
        "bootstrapped. The target is met when the whole interval is under it."
    )
    path = write_results(
        "bench_plugin_overhead", {"args": vars(args), "cpus": os.cpu_count(), "results": results}
    )
    print(f"results: {path}")


if __name__ == "__main__":
    main()
