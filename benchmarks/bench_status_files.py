"""Re-status of 10,000 unchanged files: first fingerprinting vs the stat cache.

Writes FILES files of random sizes between 10 and 100 KB (random bytes, in 100
folders) in a temporary folder, then sets every file's mtime one hour into the past
(``os.utime``): the stat cache does not trust a file modified less than 2 seconds
before it was hashed (the racy-git rule), so files written just before the first pass
would be read again on the second and the benchmark would measure nothing.

Two ways in, each timed cold (no stat cache: every file is read and hashed with
xxh3-128) and then warm (the stat cache of the first pass, opened again from its
SQLite file; nothing changed, so no file is read):

- ``tree_digest(folder, StatCache(path))``, the folder's one digest (what ``waldo
  status`` compares), closing the cache (its write) counted;
- the Kedro level: ``waldo.kedro._versions.Fingerprints(project).file_version(folder)``
  (the digest Waldo records for a folder dataset; a new ``Fingerprints`` each pass,
  with ``save()``, the cache's write, counted).

The cache file is deleted before each first pass. The first pass is measured twice per
round: with the files in the OS page cache (hashing speed: the worst case for the
ratio), and after evicting this folder's files (only them) from the page cache with
``posix_fadvise(POSIX_FADV_DONTNEED)``, so that they are read from disk as after a
reboot or on a large project. The second pass is the same in both cases: the stat
cache answers without reading any file.

    python benchmarks/bench_status_files.py [--files 10000] [--repeat 5]

Prints median seconds per pass and warm-vs-cold speed-up, and the floor: a bare walk
that stats every file, which no correct re-status can skip (a file rewritten in place
changes only its own stat). The target (second >= 20x faster than the first) is judged
against the first hashing as it happens on a project, reading files from disk; with
the files already in the page cache the first pass runs at memory speed and the
speed-up is bounded by first / floor, printed in its place;
writes ``benchmarks/results/bench_status_files.json``.
Not part of the tests.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import median, table, write_results

from waldo.fingerprint import StatCache, content_digest, fingerprint_tree, tree_digest
from waldo.kedro._versions import STAT_CACHE, Fingerprints

TARGET = 20.0


def make_files(folder: Path, files: int) -> int:
    rng = random.Random(20261123)
    total = 0
    past = time.time() - 3600  # older than the 2-second racy window
    for i in range(files):
        sub = folder / f"part{i % 100:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        size = rng.randint(10 * 1024, 100 * 1024)
        path = sub / f"file{i:05d}.csv"
        path.write_bytes(os.urandom(size))
        os.utime(path, (past, past))
        total += size
    return total


def remove_cache(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def tree_pass(folder: Path, cache_path: Path) -> tuple[float, Any, int, int]:
    gc.collect()  # each pass starts with no collection pending from the one before
    start = time.perf_counter()
    cache = StatCache(cache_path)
    digest = tree_digest(folder, cache)
    cache.close()
    elapsed = time.perf_counter() - start
    return elapsed, digest, cache.hits, cache.misses


def kedro_pass(project: Path, folder: Path) -> tuple[float, Any, int, int]:
    gc.collect()
    start = time.perf_counter()
    fingerprints = Fingerprints(project)
    version = fingerprints.file_version(folder)
    fingerprints.save()
    elapsed = time.perf_counter() - start
    cache = fingerprints._cache
    assert cache is not None
    hits, misses = cache.hits, cache.misses
    cache.close()
    return elapsed, version, hits, misses


def stat_floor(folder: Path) -> float:
    """The least a re-status can cost: list every folder and stat every file, nothing
    else (no cache, no comparison). A file rewritten in place changes only its own
    stat, so no correct re-status can skip this."""
    gc.collect()
    start = time.perf_counter()
    stack = [str(folder)]
    while stack:
        for entry in os.scandir(stack.pop()):
            if entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)
            else:
                entry.stat()
    return time.perf_counter() - start


def evict(folder: Path) -> None:
    """Drop this folder's files (only them) from the OS page cache."""
    for directory, _, names in os.walk(folder):
        for name in names:
            fd = os.open(os.path.join(directory, name), os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


WAYS = {
    "tree": "tree_digest + StatCache",
    "kedro": "Fingerprints(project).file_version",
}
FIRSTS = {
    "cached": "first, files in page cache",
    "evicted": "first, files evicted (read from disk)",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="waldo-bench-status-"))
    times: dict[str, list[float]] = {}
    try:
        project = work / "project"
        folder = project / "data" / "01_raw" / "files"
        total = make_files(folder, args.files)
        os.sync()  # dirty pages cannot be evicted
        print(f"{args.files:,} files, {total / 1e6:,.0f} MB, mtimes 1 h in the past", flush=True)
        # what the timed passes compute, checked once against the per-file fingerprints
        per_file = {rel: fp.digest for rel, fp in fingerprint_tree(folder).items()}
        assert tree_digest(folder) == content_digest(per_file)
        for round_ in range(args.repeat + 1):  # round 0 is a warm-up
            line = []
            for first in FIRSTS:
                for way in WAYS:
                    cache_path = project / STAT_CACHE if way == "kedro" else work / "tree.db"
                    remove_cache(cache_path)
                    if first == "evicted":
                        evict(folder)
                    passes = [
                        tree_pass(folder, cache_path)
                        if way == "tree"
                        else kedro_pass(project, folder)
                        for _ in range(2)
                    ]
                    (cold, cold_digest, _, cold_misses), (warm, warm_digest, hits, misses) = passes
                    assert cold_digest == warm_digest and cold_digest, way
                    assert cold_misses == args.files, (way, cold_misses)
                    assert (hits, misses) == (args.files, 0), (way, hits, misses)
                    if round_:
                        times.setdefault(f"{way}_{first}", []).append(cold)
                        times.setdefault(f"{way}_{first}_warm", []).append(warm)
                        line.append(f"{way} {first} {cold:.3f} s -> {warm:.3f} s")
            floor = stat_floor(folder)
            if round_:
                times.setdefault("stat_floor", []).append(floor)
                line.append(f"stat floor {floor:.3f} s")
                print(f"  round {round_}: " + ", ".join(line), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    medians = {key: median(values) for key, values in times.items()}
    rows = []
    speedups = {}
    for way, label in WAYS.items():
        for first, first_label in FIRSTS.items():
            cold, warm = medians[f"{way}_{first}"], medians[f"{way}_{first}_warm"]
            speedups[f"{way}_{first}"] = cold / warm
            verdict = f">= {TARGET:g}x: {'yes' if cold / warm >= TARGET else 'NO'}"
            if first == "cached":  # bounded by the stat floor, see the last row
                verdict = f"(at most {medians[f'{way}_{first}'] / medians['stat_floor']:.0f}x)"
            rows.append(
                (f"{label}: {first_label}", f"{cold:.3f}", f"{args.files / cold:,.0f}", "1.0x", "")
            )
            rows.append(
                (
                    f"{label}: again, unchanged (stat cache)",
                    f"{warm:.3f}",
                    f"{args.files / warm:,.0f}",
                    f"{cold / warm:.1f}x",
                    verdict,
                )
            )
    floor = medians["stat_floor"]
    rows.append(
        (
            "floor: scandir + stat of every file, nothing else",
            f"{floor:.3f}",
            f"{args.files / floor:,.0f}",
            f"{medians['tree_cached'] / floor:.1f}x / {medians['tree_evicted'] / floor:.1f}x",
            "",
        )
    )
    print(f"\n{args.files:,} files, median of {args.repeat} interleaved rounds")
    print(table(("case", "seconds", "files/s", "vs first", "target"), rows))
    path = write_results(
        "bench_status_files",
        {
            "args": vars(args),
            "bytes": total,
            "times": times,
            "medians": medians,
            "speedups": speedups,
            "target": TARGET,
        },
    )
    print(f"results: {path}")


if __name__ == "__main__":
    main()
