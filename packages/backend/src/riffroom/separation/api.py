"""The library's front door: `separate(song) -> StemSet`, used by the CLI, the workers and tests.

Stems are written into a staging dir of the stem store (`storage/stems.py`) and handed to it to
publish; a second request for the same content and settings is served from the store. Given a
`partial` (the stem store's `partial(job_id)`), each finished stretch is also kept there at once,
so a player can read it while the rest separates; `Progress.ready_seconds` says how far that is.

>>> stems = separate(Path("song.mp3"), engine="dsp")
>>> stems.stems["vocals"]  # a float WAV in the stem store
PosixPath('...')
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..audio.decode import decode
from ..audio.encode import StemWriter
from ..audio.format import SAMPLE_RATE
from ..audio.hashing import sha256_file
from ..config import Settings, get_settings
from ..errors import CancelledError
from ..storage.segments import PartialStems, SegmentWriter
from ..storage.stems import CacheEntry, EntryTooLargeError, StemCache, cache_key, open_stem_store
from .engines import EngineChoice, choose, get_engine
from .runner import ChunkProgress, run_chunked

# Share of the progress bar each stage gets.
_DECODE_SHARE, _SEPARATE_SHARE = 0.05, 0.93


@dataclass(frozen=True)
class Progress:
    stage: str  # "decoding" | "separating" | "publishing" | "done"
    fraction: float  # 0..1 over the whole run
    eta_seconds: float | None = None
    # Seconds from the start of the song that are final in every stem (only grows; the whole
    # song once separated, at once for a cached one).
    ready_seconds: float = 0.0


@dataclass
class StemSet:
    """The stems of one song: float32 44.1 kHz stereo WAV files, published in the cache."""

    stems: dict[str, Path]
    engine: str
    model: str
    cache_key: str
    cached: bool
    duration: float
    sha256: str
    reason: str = ""
    _scratch: Path | None = field(default=None, repr=False)

    def release(self) -> None:
        """Free the stems of an entry the cache refused (too large for the budget)."""
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None


def _cache(settings: Settings) -> StemCache:
    return open_stem_store(settings)


def separate(
    source: Path,
    *,
    engine: str = "auto",
    model: str | None = None,
    stems: Sequence[str] | None = None,
    progress: Callable[[Progress], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    settings: Settings | None = None,
    sha256: str | None = None,
    partial: PartialStems | None = None,
) -> StemSet:
    """Split `source` into stems, from the cache when the same content was split the same way before."""
    settings = settings or get_settings()
    report = progress or (lambda _p: None)
    choice = choose(engine, model or settings.default_model, settings.model_dir)
    wanted = _check_stems(stems, choice)
    sha = sha256 or sha256_file(source)
    key = cache_key(sha, choice.engine, choice.model, _params(choice, settings))
    cache = _cache(settings)
    entry = cache.lookup(key, pin_seconds=60)
    if entry is not None:
        cached = _stemset(entry, choice, wanted, cached=True, sha=sha)
        report(Progress("done", 1.0, 0.0, cached.duration))
        return cached
    staging = cache.new_staging_dir()
    try:
        entry, duration = _separate_into(source, staging, key, sha, choice, report, cancel, settings, cache, partial)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    report(Progress("done", 1.0, 0.0, duration))
    if entry is None:  # refused by the cache: serve from the private staging dir
        files = {name: staging / f"{name}.wav" for name in choice.stems}
        chosen = {n: files[n] for n in wanted}
        return StemSet(chosen, choice.engine, choice.model, key, False, duration, sha, choice.reason, staging)
    return _stemset(entry, choice, wanted, cached=False, sha=sha)


def _separate_into(
    source: Path,
    staging: Path,
    key: str,
    sha: str,
    choice: EngineChoice,
    report: Callable[[Progress], None],
    cancel: Callable[[], bool] | None,
    settings: Settings,
    cache: StemCache,
    partial: PartialStems | None,
) -> tuple[CacheEntry | None, float]:
    report(Progress("decoding", 0.0))
    with decode(
        source,
        settings=settings,
        spool_dir=staging,
        cancel=cancel,
        on_progress=lambda f: report(Progress("decoding", f * _DECODE_SHARE)),
    ) as audio:
        eng = get_engine(
            choice, model_dir=settings.model_dir, device=settings.device, dsp_chunk_seconds=settings.dsp_chunk_seconds
        )
        writers = [StemWriter(staging / f"{name}.wav") for name in eng.sources]
        segments: SegmentWriter | None = partial.open(eng.sources, audio.stats.frames) if partial else None
        started = time.monotonic()

        def sink(block: np.ndarray) -> None:
            for writer, stem in zip(writers, block, strict=True):
                writer.write(stem)
            if segments is not None:
                segments.write(block)

        def on_chunk(p: ChunkProgress) -> None:
            fraction = _DECODE_SHARE + _SEPARATE_SHARE * p.fraction
            report(Progress("separating", fraction, p.eta_seconds, p.ready_frames / SAMPLE_RATE))

        try:
            report(Progress("separating", _DECODE_SHARE, None))
            run_chunked(eng, audio, sink, progress=on_chunk, cancel=cancel)
        finally:
            for writer in writers:
                writer.close()
        duration = audio.duration
    if cancel is not None and cancel():
        raise CancelledError("cancelled")
    report(Progress("publishing", _DECODE_SHARE + _SEPARATE_SHARE, 0.0, duration))
    manifest = {
        "stems": list(eng.sources),
        "engine": choice.engine,
        "model": choice.model,
        "sha256": sha,
        "duration": duration,
        "seconds": round(time.monotonic() - started, 3),
    }
    try:
        return cache.publish(key, staging, manifest), duration
    except EntryTooLargeError:
        return None, duration


def _params(choice: EngineChoice, settings: Settings) -> dict[str, object]:
    """What besides content, engine and model changes the output (read without loading a model)."""
    if choice.engine == "dsp":
        return {"chunk_seconds": settings.dsp_chunk_seconds}
    return {"overlap": 0.25, "shifts": 0}


def _check_stems(stems: Sequence[str] | None, choice: EngineChoice) -> tuple[str, ...]:
    if not stems:
        return choice.stems
    unknown = [s for s in stems if s not in choice.stems]
    if unknown:
        hint = " (use --model htdemucs_6s for guitar and piano)" if {"guitar", "piano"} & set(unknown) else ""
        raise ValueError(
            f"{choice.engine} {choice.model} has no {', '.join(unknown)} stem; it has {', '.join(choice.stems)}{hint}"
        )
    return tuple(dict.fromkeys(stems))


def _stemset(entry: CacheEntry, choice: EngineChoice, wanted: tuple[str, ...], *, cached: bool, sha: str) -> StemSet:
    files = entry.stems
    return StemSet(
        {name: files[name] for name in wanted},
        choice.engine,
        choice.model,
        entry.key,
        cached,
        float(entry.manifest["duration"]),  # type: ignore[arg-type]
        sha,
        choice.reason,
    )
