"""The stem store: full-length keys, atomic publication, LRU by last use, oversized entries refused,
and sharing through a remote blob store so a host that did not separate a song can serve it."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from riffroom.config import Settings
from riffroom.storage.blobs import BlobStore, open_blob_store
from riffroom.storage.segments import NotReadyError
from riffroom.storage.stems import CacheEntry, EntryTooLargeError, StemCache, cache_key, stems_beside

SHA = "ab" * 32


def _stage(cache: StemCache, size: int, stems: tuple[str, ...] = ("vocals",)) -> Path:
    staging = cache.new_staging_dir()
    for name in stems:
        (staging / f"{name}.wav").write_bytes(os.urandom(size))
    return staging


def _put(cache: StemCache, key: str, size: int, stems: tuple[str, ...] = ("vocals",)) -> CacheEntry:
    """Publish, then release the short pin that protects a fresh entry until its writer has read it."""
    entry = cache.publish(key, _stage(cache, size, stems), {"stems": list(stems), "duration": 1.0})
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


@pytest.mark.parametrize("key", ["../" + "a" * 61, "A" * 64, "a" * 63, "g" * 64, ""])
def test_keys_that_are_not_stem_keys_are_refused(tmp_path: Path, key: str) -> None:
    cache = StemCache(tmp_path, 10_000)
    with pytest.raises(ValueError, match="invalid stem key"):
        cache.lookup(key)
    with pytest.raises(ValueError, match="invalid stem key"):
        cache.publish(key, _stage(cache, 10), {"stems": ["vocals"]})


def test_unpublished_entries_are_invisible(tmp_path: Path) -> None:
    cache = StemCache(tmp_path, 10_000)
    key = "e" * 64
    _stage(cache, 100)
    assert cache.lookup(key) is None and not cache.is_published(key)
    entry = _put(cache, key, 100)
    assert cache.lookup(key) == entry and cache.is_published(key)
    assert (tmp_path / "objects" / key / "manifest.json").is_file()
    assert len(list((tmp_path / "tmp").iterdir())) == 1  # only the abandoned staging dir; the published one moved


def test_lru_evicts_least_recently_used_and_really_frees_bytes(tmp_path: Path) -> None:
    cache = StemCache(tmp_path, 2500)
    for name in "abc":
        _put(cache, name * 64, 1000)  # c's arrival evicts a (the oldest)
        time.sleep(0.01)
    assert cache.lookup("a" * 64) is None and not (tmp_path / "objects" / ("a" * 64)).exists()
    cache.lookup("b" * 64)  # b is now the most recently used
    time.sleep(0.01)
    _put(cache, "d" * 64, 1000)
    assert cache.lookup("c" * 64) is None and not (tmp_path / "objects" / ("c" * 64)).exists()
    assert cache.lookup("b" * 64) is not None
    assert cache.total_bytes() <= 2500
    on_disk = sum(f.stat().st_size for f in (tmp_path / "objects").rglob("*.wav"))
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
        _put(cache, "f" * 64, 5000)
    assert cache.lookup("a" * 64) is not None
    assert cache.lookup("f" * 64) is None


def test_sizes_come_from_the_index_not_a_directory_walk(tmp_path: Path) -> None:
    cache = StemCache(tmp_path, 10**9)
    for i in range(50):
        _put(cache, f"{i:064d}", 10)
    started = time.perf_counter()
    assert cache.total_bytes() == 50 * 10 + 0
    assert time.perf_counter() - started < 0.5


def test_missing_here_names_what_this_cache_does_not_hold(tmp_path: Path) -> None:
    cache = StemCache(tmp_path, 10_000)
    _put(cache, "a" * 64, 10)
    _put(cache, "b" * 64, 10)
    cache.budget_bytes = 0
    cache.unpin("b" * 64)
    assert cache.evict(keep="a" * 64) == ["b" * 64]
    assert cache.missing_here(["a" * 64, "b" * 64, "c" * 64, "not-a-key"]) == ["b" * 64, "c" * 64, "not-a-key"]


def test_stems_beside_lists_every_stem_of_an_entry_or_a_refused_staging_dir(tmp_path: Path) -> None:
    cache = StemCache(tmp_path, 10_000)
    entry = _put(cache, "a" * 64, 10, stems=("vocals", "drums", "bass"))
    assert stems_beside(entry.stems["drums"]) == entry.stems
    assert sorted(entry.stems) == ["bass", "drums", "vocals"]
    staging = _stage(cache, 10, stems=("vocals", "other"))  # never published: no manifest
    assert stems_beside(staging / "vocals.wav") == {"other": staging / "other.wav", "vocals": staging / "vocals.wav"}


def test_a_file_blob_store_shares_the_cache_itself_and_copies_nothing(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    blobs = open_blob_store(settings.resolved_blob_url, settings)
    cache = StemCache(tmp_path / "cache", 10_000, blobs)
    _put(cache, "a" * 64, 10)
    assert cache.share("a" * 64) is False
    assert not (tmp_path / "data" / "blobs" / "stems").exists()


def test_stems_published_on_one_host_are_served_by_another(s3_store: Callable[[], BlobStore], tmp_path: Path) -> None:
    worker = StemCache(tmp_path / "worker", 10**6, s3_store())
    api = StemCache(tmp_path / "api", 10**6, s3_store())
    key = cache_key(SHA, "dsp", "dsp", {})
    made = _put(worker, key, 1000, stems=("vocals", "drums"))
    assert not api.is_published(key) and api.lookup(key) is None  # nothing copied out yet

    assert worker.share(key) is True
    assert worker.share(key) is True  # already there: left alone
    assert api.is_published(key)
    assert api.missing_here([key]) == [key]  # published, but not yet on this host
    fetched = api.lookup(key, pin_seconds=60)
    assert fetched is not None and fetched.directory == tmp_path / "api" / "objects" / key
    assert {n: p.read_bytes() for n, p in fetched.stems.items()} == {n: p.read_bytes() for n, p in made.stems.items()}
    assert fetched.manifest["duration"] == 1.0 and fetched.manifest["key"] == key
    assert api.missing_here([key]) == []
    assert api.total_bytes() == worker.total_bytes() == 2000


def test_a_half_copied_entry_is_never_used(s3_store: Callable[[], BlobStore], tmp_path: Path) -> None:
    blobs = s3_store()
    api = StemCache(tmp_path / "api", 10**6, blobs)
    key = "c" * 64
    wav = tmp_path / "vocals.wav"
    wav.write_bytes(b"x" * 100)
    blobs.upload(f"stems/{key}/vocals.wav", wav)  # a worker that died before the manifest
    assert not api.is_published(key)
    assert api.lookup(key) is None
    assert not list((tmp_path / "api" / "tmp").iterdir())


def test_sharing_an_entry_this_host_does_not_hold_is_an_error(
    s3_store: Callable[[], BlobStore], tmp_path: Path
) -> None:
    worker = StemCache(tmp_path / "worker", 10**6, s3_store())
    with pytest.raises(FileNotFoundError, match="not published on this host"):
        worker.share("d" * 64)


def test_a_sidecar_lives_beside_the_stems_counts_in_the_size_and_goes_with_the_entry(tmp_path: Path) -> None:
    cache = StemCache(tmp_path, 2500)
    key = "a" * 64
    assert cache.read_sidecar(key, "analysis-v1.json") is None
    assert cache.put_sidecar(key, "analysis-v1.json", b"{}") is False  # no entry: nothing written
    assert not (tmp_path / "objects" / key).exists()
    _put(cache, key, 1000)
    assert cache.put_sidecar(key, "analysis-v1.json", b'{"bpm": 120}') is True
    assert cache.read_sidecar(key, "analysis-v1.json") == b'{"bpm": 120}'
    assert cache.total_bytes() == 1000 + 12
    assert cache.put_sidecar(key, "analysis-v1.json", b'{"bpm": 60.5}') is True  # replaced, not added
    assert cache.read_sidecar(key, "analysis-v1.json") == b'{"bpm": 60.5}' and cache.total_bytes() == 1000 + 13
    assert cache.read_sidecar(key, "analysis-v2.json") is None
    assert sorted(p.name for p in (tmp_path / "objects" / key).iterdir()) == [
        "analysis-v1.json",
        "manifest.json",
        "vocals.wav",
    ]  # no temporary file left behind
    assert sorted(cache.lookup(key).stems) == ["vocals"]  # type: ignore[union-attr]
    time.sleep(0.01)
    _put(cache, "b" * 64, 1000)
    _put(cache, "c" * 64, 1000)  # over budget: the oldest entry goes, its sidecar with it
    assert not (tmp_path / "objects" / key).exists()
    assert cache.read_sidecar(key, "analysis-v1.json") is None


@pytest.mark.parametrize(
    "name", ["manifest.json", "../x.json", "vocals.wav", "a/b.json", "UP.json", ".hidden.json", ""]
)
def test_sidecar_names_that_could_touch_the_stems_are_refused(tmp_path: Path, name: str) -> None:
    cache = StemCache(tmp_path, 10_000)
    _put(cache, "a" * 64, 10)
    with pytest.raises(ValueError, match="invalid sidecar name"):
        cache.put_sidecar("a" * 64, name, b"{}")
    with pytest.raises(ValueError, match="invalid sidecar name"):
        cache.read_sidecar("a" * 64, name)
    with pytest.raises(ValueError, match="invalid stem key"):
        cache.read_sidecar("../" + "a" * 61, "analysis-v1.json")


def test_a_sidecar_made_on_one_host_is_read_on_another(s3_store: Callable[[], BlobStore], tmp_path: Path) -> None:
    worker = StemCache(tmp_path / "worker", 10**6, s3_store())
    api = StemCache(tmp_path / "api", 10**6, s3_store())
    key = cache_key(SHA, "dsp", "dsp", {})
    _put(worker, key, 100)
    assert worker.share(key) is True
    assert worker.put_sidecar(key, "analysis-v1.json", b'{"key": "C major"}') is True
    assert api.read_sidecar(key, "analysis-v1.json") == b'{"key": "C major"}'  # without the stems here
    assert not (tmp_path / "api" / "objects" / key).exists()
    assert api.lookup(key) is not None  # the stems come over; the sidecar is then kept here too
    assert api.read_sidecar(key, "analysis-v1.json") == b'{"key": "C major"}'
    assert (tmp_path / "api" / "objects" / key / "analysis-v1.json").read_bytes() == b'{"key": "C major"}'
    assert api.read_sidecar(key, "analysis-v9.json") is None


# -- a running separation's finished stretches (partial data) ----------------------------------------
RUN = "0123456789abcdef0123456789abcdef"


def _blocks(seed: int, sizes: list[int], stems: int = 2) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((stems, 2, n)).astype(np.float32) for n in sizes]


def test_partial_ranges_are_the_exact_samples_written_and_stop_at_the_frontier(tmp_path: Path) -> None:
    cache = StemCache(tmp_path / "c", 10**9, segment_seconds=0.01)  # 441-frame segments
    partial = cache.partial(RUN)
    assert partial.frontier() is None
    writer = partial.open(("vocals", "drums"), total_frames=3000)
    first = partial.frontier()
    assert first is not None and first.frames == 0
    blocks = _blocks(1, [1000, 7, 993])  # across segments, inside one, ending mid-segment
    whole = np.concatenate(blocks, axis=-1)
    written = 0
    for block in blocks:
        writer.write(block)
        written += block.shape[-1]
        frontier = partial.frontier()
        assert frontier is not None and frontier.frames == written
        for stem_index, stem in enumerate(("vocals", "drums")):
            got = partial.read(frontier, stem, 0, written)
            assert got.dtype == np.float32 and np.array_equal(got, whole[stem_index, :, :written])
        got = partial.read(frontier, "drums", written // 3, written - 1)
        assert np.array_equal(got, whole[1, :, written // 3 : written - 1])
        with pytest.raises(NotReadyError) as err:
            partial.read(frontier, "vocals", 0, written + 1)
        assert err.value.ready_frames == written
    assert not list(tmp_path.glob("c/partial/**/*.part"))


def test_partial_data_is_discarded_and_swept(tmp_path: Path) -> None:
    cache = StemCache(tmp_path / "c", 10**9, segment_seconds=0.01)
    for run in (RUN, "ff" * 16):
        cache.partial(run).open(("vocals",), 1000).write(_blocks(2, [500], stems=1)[0])
    cache.partial(RUN).discard()
    assert cache.partial(RUN).frontier() is None
    assert cache.partial("ff" * 16).frontier() is not None
    assert cache.sweep_partials(keep=["ff" * 16]) == []
    assert cache.sweep_partials(keep=[]) == ["ff" * 16]
    assert cache.partial("ff" * 16).frontier() is None
    with pytest.raises(ValueError):
        cache.partial("../etc")


def test_partial_data_is_readable_from_another_host_through_the_blob_store(
    tmp_path: Path, s3_store: Callable[[], BlobStore]
) -> None:
    worker = StemCache(tmp_path / "worker", 10**9, s3_store(), segment_seconds=0.01)
    api = StemCache(tmp_path / "api", 10**9, s3_store(), segment_seconds=0.01)
    writer = worker.partial(RUN).open(("bass",), total_frames=2000)
    block = _blocks(3, [1200], stems=1)[0]
    writer.write(block)
    frontier = api.partial(RUN).frontier()
    assert frontier is not None and frontier.frames == 1200
    assert np.array_equal(api.partial(RUN).read(frontier, "bass", 100, 1200), block[0, :, 100:1200])
    worker.partial(RUN).discard()
    assert api.partial(RUN).frontier() is None
    assert worker.blobs is not None and not worker.blobs.exists(f"partial/{RUN}/bass/000000.f32")
