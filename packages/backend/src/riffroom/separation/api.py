"""The library's front door: `separate(song) -> StemSet`, used by the CLI, the workers and tests.

Stems are written into a staging dir of the stem store (`storage/stems.py`) and handed to it to
publish; a second request for the same content and settings is served from the store. Given a
`partial` (the stem store's `partial(job_id)`), each finished stretch is also kept there at once,
so a player can read it while the rest separates; `Progress.ready_seconds` says how far that is.
The decode streams, so the first chunk starts as soon as ffmpeg has written its frames: always
for an engine that works on the raw mix (dsp, Spleeter), and for one that normalises by the whole
song (demucs) when the song's `mix_stats` are known (audio/mix_stats.py); a new song waits for its
full decode there. Should this host's decode end with other statistics than those given, the
stems made so far are thrown away and the song is separated again from that decode.

>>> stems = separate(Path("song.mp3"), engine="dsp")
>>> stems.stems["vocals"]  # a float WAV in the stem store
PosixPath('...')
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..audio.decode import DecodedAudio, decode
from ..audio.encode import StemWriter
from ..audio.format import SAMPLE_RATE, MixStats
from ..audio.hashing import sha256_file
from ..audio.probe import AudioInfo
from ..audio.stream_decode import MixStatsMismatch, StreamingDecode
from ..config import Settings, get_settings
from ..errors import CancelledError
from ..storage.segments import PartialStems, SegmentWriter
from ..storage.stems import CacheEntry, EntryTooLargeError, StemCache, cache_key, open_stem_store
from .engine import Engine
from .engines import EngineChoice, choose, get_engine
from .runner import ChunkProgress, run_chunked

log = logging.getLogger("riffroom.separation")

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
    # The song as separation decoded it, when asked to keep it (`keep_decoded`): the caller closes it.
    decoded: DecodedAudio | None = field(default=None, repr=False)

    def release(self) -> None:
        """Free the stems of an entry the cache refused (too large for the budget), and the decode."""
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None
        self.close_decoded()

    def close_decoded(self) -> None:
        if self.decoded is not None:
            self.decoded.close()
            self.decoded = None


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
    mix_stats: MixStats | None = None,
    keep_decoded: bool = False,
    source_info: AudioInfo | None = None,
    cores: Callable[[], int] | None = None,
    first_window_alone: bool = False,
) -> StemSet:
    """Split `source` into stems, from the cache when the same content was split the same way before.

    `mix_stats`: the song's, measured before by this host's decoder, so the decode streams.
    `source_info`: what probing `source` found before (its upload), so the decode need not ask again.
    `cores`: how many cores the separation may use now (asked before each batch of windows).
    `first_window_alone`: someone may be listening (a job): the first window runs by itself.
    `keep_decoded`: hand the decoded song back as `StemSet.decoded` (for the analysis) instead of
    deleting it; the caller must close it."""
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
    spool_dir = cache.new_staging_dir()  # the decode's own: it may outlive the published stems
    run = _Run(
        source, staging, spool_dir, choice, report, cancel, settings, partial, source_info, cores, first_window_alone
    )
    try:
        entry, decoded = _separate_into(run, key, sha, cache, mix_stats)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(spool_dir, ignore_errors=True)
        raise
    duration = decoded.duration
    if not keep_decoded:
        decoded.close()
    kept = decoded if keep_decoded else None
    report(Progress("done", 1.0, 0.0, duration))
    if entry is None:  # refused by the cache: serve from the private staging dir
        files = {name: staging / f"{name}.wav" for name in choice.stems}
        chosen = {n: files[n] for n in wanted}
        return StemSet(chosen, choice.engine, choice.model, key, False, duration, sha, choice.reason, staging, kept)
    result = _stemset(entry, choice, wanted, cached=False, sha=sha)
    result.decoded = kept
    return result


@dataclass(frozen=True)
class _Run:
    """What one separation writes with: its input, folders, engine choice and callbacks."""

    source: Path
    staging: Path
    spool_dir: Path
    choice: EngineChoice
    report: Callable[[Progress], None]
    cancel: Callable[[], bool] | None
    settings: Settings
    partial: PartialStems | None
    info: AudioInfo | None = None  # the source's probe, when known
    cores: Callable[[], int] | None = None  # the job's share of the host's cores, now
    first_alone: bool = False  # the first window by itself: its stretch is final soonest


def _separate_into(
    run: _Run, key: str, sha: str, cache: StemCache, mix_stats: MixStats | None
) -> tuple[CacheEntry | None, DecodedAudio]:
    """Decode (streaming when the engine can start without `mix_stats`, or they are known),
    separate into `run.staging`, publish. Returns the entry (None when the cache refused it) and
    the complete decode."""
    settings, report, cancel = run.settings, run.report, run.cancel
    report(Progress("decoding", 0.0))
    eng = get_engine(
        run.choice,
        model_dir=settings.model_dir,
        device=settings.device,
        dsp_chunk_seconds=settings.dsp_chunk_seconds,
    )
    audio: DecodedAudio | StreamingDecode
    if mix_stats is not None or not eng.normalize_input:
        audio = StreamingDecode(
            run.source,
            mix_stats,
            settings=settings,
            spool_dir=run.spool_dir,
            cancel=cancel,
            owned_dir=run.spool_dir,
            info=run.info,
        )
    else:
        audio = decode(
            run.source,
            settings=settings,
            spool_dir=run.spool_dir,
            cancel=cancel,
            on_progress=lambda f: report(Progress("decoding", f * _DECODE_SHARE)),
            info=run.info,
        )
        audio.owned_dir = run.spool_dir
    try:
        started = time.monotonic()
        try:
            decoded = _separate_from(run, eng, audio)
        except MixStatsMismatch as exc:  # never publish stems normalised by another decoder's stats
            log.warning("this host decodes %s differently from the stored stats: separating again", sha[:12])
            audio = exc.decoded  # the same spool, complete: the decode has ended
            decoded = _separate_from(run, eng, audio)
    except BaseException:
        audio.close()
        raise
    if cancel is not None and cancel():
        decoded.close()
        raise CancelledError("cancelled")
    duration = decoded.duration
    report(Progress("publishing", _DECODE_SHARE + _SEPARATE_SHARE, 0.0, duration))
    manifest = {
        "stems": list(eng.sources),
        "engine": run.choice.engine,
        "model": run.choice.model,
        "sha256": sha,
        "duration": duration,
        "seconds": round(time.monotonic() - started, 3),
    }
    try:
        return cache.publish(key, run.staging, manifest), decoded
    except EntryTooLargeError:
        return None, decoded
    except BaseException:
        decoded.close()
        raise


def _separate_from(run: _Run, eng: Engine, audio: DecodedAudio | StreamingDecode) -> DecodedAudio:
    """Write every stem of `audio` into the staging dir (afresh) and the partial data; the full decode."""
    writers = [StemWriter(run.staging / f"{name}.wav") for name in eng.sources]

    def expected() -> int:  # a new song's length is an estimate until its decode ends
        return audio.expected_frames if isinstance(audio, StreamingDecode) else audio.stats.frames

    segments: SegmentWriter | None = run.partial.open(eng.sources, expected()) if run.partial else None

    def sink(block: np.ndarray) -> None:
        for writer, stem in zip(writers, block, strict=True):
            writer.write(stem)
        if segments is not None:
            segments.write(block, total_frames=expected())

    def on_chunk(p: ChunkProgress) -> None:
        fraction = _DECODE_SHARE + _SEPARATE_SHARE * p.fraction
        run.report(Progress("separating", fraction, p.eta_seconds, p.ready_frames / SAMPLE_RATE))

    try:
        run.report(Progress("separating", _DECODE_SHARE, None))
        run_chunked(
            eng, audio, sink, progress=on_chunk, cancel=run.cancel, cores=run.cores, first_alone=run.first_alone
        )
        if segments is not None:
            segments.end()
    finally:
        for writer in writers:
            writer.close()
    return audio.finish() if isinstance(audio, StreamingDecode) else audio


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
