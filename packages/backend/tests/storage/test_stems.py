"""The content cache: full-length keys, atomic publication, LRU by last use, oversized entries refused."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from riffroom.separation.cache import EntryTooLargeError, StemCache, cache_key

SHA = "ab" * 32


def _stage(cache: StemCache, size: int) -> Path:
    staging = cache.new_staging_dir()
    (staging / "vocals.wav").write_bytes(os.urandom(size))
    return staging


def _put(cache: StemCache, key: str, size: int):
    """Publish, then release the short pin that protects a fresh entry until its writer has read it."""
    entry = cache.publish(key, _stage(cache, size), {"stems": ["vocals"], "duration": 1.0})
    cache.unpin(key)
    return entry


def test_key_uses_the_full_hash_and_every_parameter() -> None:
    base = cache_key(SHA, "demucs", "htdemucs", {"overlap": 0.25})
    assert len(base) == 64
    assert cache_key("ab" * 31 + "ac", "demucs", "htdemucs", {"overlap": 0.25}) != base  # last digit matters
    assert cache_key(SHA, "dsp", "htdemucs", {"overlap": 0.25}) != base
    assert cache_key(SHA, "demucs", "htdemucs_6s", {"overlap": 0.25}) != base
    assert cache_key(SHA, "demucs", "htdemucs", {"overlap": 0.5}) != base
    with pytest.raises(ValueError):
        cache_key(SHA[:16], "demucs", "htdemucs", {})


def test_unpublished_entries_are_invisible(tmp_path: Path) -> None:
    cache = StemCache(tmp_path, 10_000)
    _stage(cache, 100)
    assert cache.lookup("k" * 64) is None
    entry = _put(cache, "k" * 64, 100)
    assert cache.lookup("k" * 64) == entry
    assert (entry.directory / "manifest.json").is_file()
    assert len(list(cache.tmp.iterdir())) == 1  # only the abandoned staging dir; the published one moved


def test_lru_evicts_least_recently_used_and_really_frees_bytes(tmp_path: Path) -> None:
    cache = StemCache(tmp_path, 2500)
    for name in "abc":
        _put(cache, name * 64, 1000)  # c's arrival evicts a (the oldest)
        time.sleep(0.01)
    assert cache.lookup("a" * 64) is None and not (cache.objects / ("a" * 64)).exists()
    cache.lookup("b" * 64)  # b is now the most recently used
    time.sleep(0.01)
    _put(cache, "d" * 64, 1000)
    assert cache.lookup("c" * 64) is None and not (cache.objects / ("c" * 64)).exists()
    assert cache.lookup("b" * 64) is not None
    assert cache.total_bytes() <= 2500
    on_disk = sum(f.stat().st_size for f in cache.objects.rglob("*.wav"))
    assert on_disk == cache.total_bytes() - 0  # the index agrees with the disk


def test_pinned_entries_are_never_evicted(tmp_path: Path) -> None:
    cache = StemCache(tmp_path, 1500)
    _put(cache, "a" * 64, 1000)
    cache.lookup("a" * 64, pin_seconds=60)  # being read
    _put(cache, "b" * 64, 1000)
    assert cache.lookup("a" * 64) is not None  # over budget for now, but not pulled from under a reader


def test_entry_larger_than_budget_is_refused_and_evicts_nothing(tmp_path: Path) -> None:
    cache = StemCache(tmp_path, 1500)
    _put(cache, "a" * 64, 1000)
    with pytest.raises(EntryTooLargeError):
        _put(cache, "z" * 64, 5000)
    assert cache.lookup("a" * 64) is not None
    assert cache.lookup("z" * 64) is None


def test_sizes_come_from_the_index_not_a_directory_walk(tmp_path: Path) -> None:
    cache = StemCache(tmp_path, 10**9)
    for i in range(50):
        _put(cache, f"{i:064d}", 10)
    started = time.perf_counter()
    assert cache.total_bytes() == 50 * 10 + 0
    assert time.perf_counter() - started < 0.5
