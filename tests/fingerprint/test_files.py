"""File fingerprints: digests, glob patterns relative to a base, and the stat cache."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import xxhash

from waldo._errors import InvalidInput
from waldo.fingerprint import (
    FILE_DIGEST_ALGORITHM,
    StatCache,
    content_digest,
    expand_patterns,
    file_digest,
    fingerprint_file,
    fingerprint_glob,
    fingerprint_tree,
    tree_digest,
)
from waldo.fingerprint._files import CHUNK_SIZE

OLD = time.time() - 3600  # well outside the racy window


def write(path: Path, content: bytes | str, *, old: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    if old:
        os.utime(path, (OLD, OLD))
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    base = tmp_path / "models"
    write(base / "top.sql", "select 1")
    write(base / "staging" / "orders.sql", "select * from orders")
    write(base / "staging" / "deep" / "items.sql", "select * from items")
    write(base / "seeds" / "countries.csv", "code,name\n")
    write(base / ".hidden.sql", "hidden")
    write(base / ".git" / "config.sql", "hidden folder")
    (base / "folder.sql").mkdir()  # a folder matching the pattern is not a model
    return base


def test_digest_is_xxh3_128_of_the_content(tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt", "hello")
    assert FILE_DIGEST_ALGORITHM == "xxh3_128"
    assert file_digest(path) == xxhash.xxh3_128(b"hello").hexdigest()
    assert len(file_digest(path)) == 32


def test_large_files_are_read_in_chunks_with_the_same_digest(tmp_path: Path) -> None:
    content = os.urandom(CHUNK_SIZE * 3 + 123)
    path = write(tmp_path / "big.bin", content)
    assert file_digest(path) == xxhash.xxh3_128(content).hexdigest()


def test_empty_file(tmp_path: Path) -> None:
    assert file_digest(write(tmp_path / "e", b"")) == xxhash.xxh3_128(b"").hexdigest()


def test_double_star_matches_every_depth_including_the_top(tree: Path) -> None:
    assert expand_patterns(tree, ["**/*.sql"]) == [
        "staging/deep/items.sql",
        "staging/orders.sql",
        "top.sql",
    ]


def test_patterns_are_relative_deduplicated_and_sorted(tree: Path) -> None:
    found = expand_patterns(tree, ["./staging/*.sql", "**/*.csv", "staging/**/*.sql"])
    assert found == ["seeds/countries.csv", "staging/deep/items.sql", "staging/orders.sql"]


def test_dot_files_and_folders_are_left_alone(tree: Path) -> None:
    assert not [p for p in expand_patterns(tree, ["**/*"]) if "hidden" in p or ".git" in p]
    assert expand_patterns(tree, [".hidden.sql"]) == [".hidden.sql"]  # named explicitly


@pytest.mark.parametrize("pattern", ["/etc/*", "../*.sql", "staging/../../x", "", "  "])
def test_patterns_may_not_leave_the_base(tree: Path, pattern: str) -> None:
    with pytest.raises(InvalidInput):
        expand_patterns(tree, [pattern])


def test_no_pattern_is_an_error(tree: Path) -> None:
    with pytest.raises(InvalidInput, match="at least one"):
        expand_patterns(tree, [])


def test_base_must_be_a_folder(tree: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        fingerprint_glob(tree / "missing", ["*"])
    with pytest.raises(InvalidInput, match="is not a folder"):
        fingerprint_glob(tree / "top.sql", ["*"])


def test_fingerprint_glob_and_tree(tree: Path) -> None:
    prints = fingerprint_glob(tree, ["**/*.sql"])
    assert set(prints) == {"top.sql", "staging/orders.sql", "staging/deep/items.sql"}
    orders = prints["staging/orders.sql"]
    assert orders.size == len("select * from orders")
    assert orders.digest == xxhash.xxh3_128(b"select * from orders").hexdigest()
    assert orders.stem == "orders"
    assert orders.mtime_ns == int(OLD * 1e9) or abs(orders.mtime_ns / 1e9 - OLD) < 1
    assert set(fingerprint_tree(tree)) == {*prints, "seeds/countries.csv"}


def test_fingerprint_file_refuses_folders_and_missing_files(tree: Path) -> None:
    with pytest.raises(InvalidInput):
        fingerprint_file(tree / "staging")
    with pytest.raises(InvalidInput):
        fingerprint_file(tree / "nope.sql")


def test_stat_cache_skips_unchanged_files(tree: Path, tmp_path: Path) -> None:
    cache_path = tmp_path / "cache" / "statcache.db"
    with StatCache(cache_path) as cache:
        first = fingerprint_tree(tree, cache)
        assert (cache.hits, cache.misses) == (0, 4)
    with StatCache(cache_path) as cache:
        second = fingerprint_tree(tree, cache)
        assert (cache.hits, cache.misses) == (4, 0)
    assert first == second


def test_tree_digest_is_the_content_digest_of_the_files_digests(tree: Path) -> None:
    prints = fingerprint_tree(tree)
    assert list(prints) == sorted(prints)  # sorted by relative path, whatever the walk
    assert tree_digest(tree) == content_digest({rel: fp.digest for rel, fp in prints.items()})


def test_an_unchanged_folder_is_answered_by_its_manifest(tree: Path, tmp_path: Path) -> None:
    """The second pass reads no file and writes nothing back; a change is still seen."""
    cache_path = tmp_path / "statcache.db"
    with StatCache(cache_path) as cache:
        first = tree_digest(tree, cache)
        assert (cache.hits, cache.misses) == (0, 4)
    written = os.stat(cache_path).st_mtime_ns, _cache_rows(cache_path)
    with StatCache(cache_path) as cache:
        assert tree_digest(tree, cache) == first
        assert (cache.hits, cache.misses) == (4, 0)
    assert (os.stat(cache_path).st_mtime_ns, _cache_rows(cache_path)) == written

    write(tree / "staging" / "orders.sql", "select * from orderz")  # same size, in place
    os.utime(tree / "staging" / "orders.sql", (OLD + 10, OLD + 10))
    with StatCache(cache_path) as cache:
        changed = tree_digest(tree, cache)
        assert (cache.hits, cache.misses) == (3, 1)
    assert changed != first
    (tree / "top.sql").unlink()
    with StatCache(cache_path) as cache:
        removed = tree_digest(tree, cache)
        assert (cache.hits, cache.misses) == (3, 0)
        assert removed == tree_digest(tree)  # the same as without any cache
    assert removed not in (first, changed)


def test_a_manifest_from_another_format_is_ignored(tree: Path, tmp_path: Path) -> None:
    import sqlite3

    cache_path = tmp_path / "statcache.db"
    with StatCache(cache_path) as cache:
        first = tree_digest(tree, cache)
    with sqlite3.connect(cache_path) as db:
        db.execute("UPDATE tree_manifest SET format = 'other', entries = x'00ff'")
    with StatCache(cache_path) as cache:
        assert tree_digest(tree, cache) == first
        assert (cache.hits, cache.misses) == (4, 0)  # from the per-file entries


def test_racy_files_are_read_again_even_with_a_manifest(tree: Path, tmp_path: Path) -> None:
    cache_path = tmp_path / "statcache.db"
    write(tree / "fresh.sql", "v1", old=False)
    with StatCache(cache_path) as cache:
        fingerprint_tree(tree, cache)
    with StatCache(cache_path) as cache:
        fingerprint_tree(tree, cache)
        assert (cache.hits, cache.misses) == (4, 1)


def _cache_rows(path: Path) -> list[tuple[object, ...]]:
    import sqlite3

    with sqlite3.connect(path) as db:
        return db.execute("SELECT root, tree_digest, entries FROM tree_manifest").fetchall()


def test_stat_cache_sees_a_change_of_same_size(tree: Path, tmp_path: Path) -> None:
    cache_path = tmp_path / "statcache.db"
    path = tree / "top.sql"
    with StatCache(cache_path) as cache:
        before = fingerprint_file(path, cache)
    write(path, "select 2")  # same size, new mtime
    os.utime(path, (OLD + 10, OLD + 10))
    with StatCache(cache_path) as cache:
        after = fingerprint_file(path, cache)
        assert cache.misses == 1
    assert before != after == xxhash.xxh3_128(b"select 2").hexdigest()


def test_stat_cache_does_not_trust_racy_entries(tmp_path: Path) -> None:
    """A file hashed within the racy window of its mtime is hashed again next time."""
    cache_path = tmp_path / "statcache.db"
    path = write(tmp_path / "fresh.sql", "v1", old=False)
    with StatCache(cache_path) as cache:
        fingerprint_file(path, cache)
    with StatCache(cache_path) as cache:
        fingerprint_file(path, cache)
        assert (cache.hits, cache.misses) == (0, 1)


def test_an_unusable_cache_only_costs_reads(tree: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with StatCache(blocker / "statcache.db") as cache:
        assert not cache.enabled
        assert len(fingerprint_tree(tree, cache)) == 4
        assert cache.misses == 4


def test_a_corrupt_cache_file_is_not_fatal(tree: Path, tmp_path: Path) -> None:
    cache_path = tmp_path / "statcache.db"
    cache_path.write_bytes(b"this is not sqlite" * 100)
    with StatCache(cache_path) as cache:
        assert len(fingerprint_tree(tree, cache)) == 4


@pytest.mark.parametrize(
    "pattern",
    [
        "**/*.sql",
        "*.sql",
        "staging/*.sql",
        "staging/**",
        "staging/**/*.sql",
        "**/deep/*",
        "s?ed?/*.csv",
        "[st]*/*.sql",
        "**/[!o]*.sql",
        "top.sql",
        "**",
        "*/*/*",
    ],
)
def test_patterns_match_what_the_shell_glob_matches(tree: Path, pattern: str) -> None:
    import glob

    expected = sorted(
        m for m in glob.glob(pattern, root_dir=tree, recursive=True) if (tree / m).is_file()
    )
    assert expand_patterns(tree, [pattern]) == expected


def test_symlinks_to_files_count_broken_ones_do_not(tree: Path) -> None:
    (tree / "link.sql").symlink_to(tree / "top.sql")
    (tree / "broken.sql").symlink_to(tree / "nowhere.sql")
    prints = fingerprint_glob(tree, ["*.sql"])
    assert sorted(prints) == ["link.sql", "top.sql"]
    assert prints["link.sql"].digest == prints["top.sql"].digest


def test_stems(tree: Path) -> None:
    write(tree / "archive.tar.gz", "x")
    write(tree / "Makefile", "x")
    prints = fingerprint_tree(tree)
    assert prints["archive.tar.gz"].stem == "archive.tar"
    assert prints["Makefile"].stem == "Makefile"
    assert prints["staging/deep/items.sql"].stem == "items"


def test_tree_walk_matches_the_double_star_pattern(tmp_path: Path) -> None:
    from waldo.fingerprint import fingerprint_glob, fingerprint_tree

    for relative in ["a.txt", "sub/b.csv", "sub/deeper/c.sql", ".hidden", ".git/x", "sub/.h/y"]:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(relative)
    tree = fingerprint_tree(tmp_path)
    assert list(tree) == ["a.txt", "sub/b.csv", "sub/deeper/c.sql"]
    assert tree == fingerprint_glob(tmp_path, ["**/*"])
