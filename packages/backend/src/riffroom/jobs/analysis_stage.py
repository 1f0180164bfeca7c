"""The analysis stage of a job: beats, bars, key, chords and sections, kept beside the stems.

Runs after the separation (or a cache hit whose entry has no analysis yet). The song is decoded
once per job: the separation's own decode is read again when it is handed over (`decoded`), and
only a cache hit decodes it here. The mixture and the stems the analysis listens to are read
block by block, each reduced to mono at the analysis rate at once (guitar, piano and other as
one sum: the analysis hears them together), so the inputs of a 20-minute song take a few hundred
MB rather than gigabytes. An analysis that raises is stored as a result that says it failed
(no steady beat, nothing found): it never fails the separation, and it is not retried on every
request.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from riffroom.analysis import ANALYSIS_VERSION, Analysis
from riffroom.errors import CancelledError
from riffroom.storage.stems import StemCache

if TYPE_CHECKING:
    from riffroom.audio.decode import DecodedAudio
    from riffroom.config import Settings

log = logging.getLogger("riffroom.analysis")

ANALYSIS_SIDECAR = f"analysis-v{ANALYSIS_VERSION}.json"
BEAT_STEM = "drums"
BASS_STEM = "bass"
PITCHED_STEMS = ("guitar", "piano", "other")  # heard together by the analysis: read as one sum
_BLOCK_FRAMES = 1 << 18
_PIN_SECONDS = 300.0  # the stems stay put while they are read (pins expire; others' are kept)
# Share of the stage's progress: decoding the song, reading the stems, then the analysis itself.
_DECODE_SHARE, _STEMS_SHARE = 0.2, 0.1


def read_analysis(store: StemCache, key: str) -> dict[str, Any] | None:
    """The stored analysis of cache entry `key`, or None when there is none (never made, or evicted)."""
    data = store.read_sidecar(key, ANALYSIS_SIDECAR)
    return None if data is None else dict(json.loads(data))


def failed_analysis(reason: str) -> dict[str, Any]:
    """What is stored when the analysis raised: empty, and a message saying so."""
    empty = Analysis.empty(f"the analysis failed: {reason}"[:500])
    return {"version": ANALYSIS_VERSION, **empty.to_json()}


def ensure_analysis(
    store: StemCache,
    key: str,
    source: Path,
    *,
    settings: Settings,
    cancel: Callable[[], bool],
    progress: Callable[[float], None],
    decoded: DecodedAudio | None = None,
) -> bool:
    """Analyse `source` and its stems (entry `key`) unless that entry already has an analysis.

    `decoded`: the song as the separation decoded it (read, not closed, here), so ffmpeg does not
    run again. Returns whether it ran. Raises only CancelledError (cancel asked before the result was made);
    any other error is stored as a failed analysis."""
    if store.read_sidecar(key, ANALYSIS_SIDECAR) is not None:
        return False
    entry = store.lookup(key, pin_seconds=_PIN_SECONDS)
    if entry is None:  # evicted since the separation: the next request recomputes both
        log.warning("stems %s were evicted before they could be analysed", key[:12])
        return False
    started = time.monotonic()
    progress(0.0)
    try:
        result = _analyse(store, source, entry.stems, settings, cancel, progress, decoded)
    except CancelledError:
        raise
    except Exception as exc:
        log.exception("analysing stems %s failed; the separation stands", key[:12])
        result = failed_analysis(f"{type(exc).__name__}: {exc}")
    if not store.put_sidecar(key, ANALYSIS_SIDECAR, json.dumps(result, separators=(",", ":")).encode()):
        log.warning("stems %s were evicted while being analysed", key[:12])
    log.info("analysed stems %s in %.1f s (%s)", key[:12], time.monotonic() - started, result.get("message") or "ok")
    if cancel():
        raise CancelledError("cancelled after the analysis")
    return True


def _analyse(
    store: StemCache,
    source: Path,
    stems: dict[str, Path],
    settings: Settings,
    cancel: Callable[[], bool],
    progress: Callable[[float], None],
    decoded: DecodedAudio | None,
) -> dict[str, Any]:
    from riffroom.analysis import analyze
    from riffroom.analysis.signal import ANALYSIS_RATE

    if cancel():
        raise CancelledError("cancelled before the analysis")
    if decoded is not None:
        mixture = _mono_of(decoded)
    else:
        mixture = _decoded_mono(store, source, settings, cancel, lambda f: progress(_DECODE_SHARE * f))
    listened: dict[str, np.ndarray] = {}
    for name in (BEAT_STEM, BASS_STEM):
        if name in stems:
            listened[name] = _stem_mono([stems[name]])
    pitched = [stems[name] for name in PITCHED_STEMS if name in stems]
    if pitched:
        listened["other"] = _stem_mono(pitched)
    if cancel():
        raise CancelledError("cancelled before the analysis")
    progress(_DECODE_SHARE + _STEMS_SHARE)
    share = 1.0 - _DECODE_SHARE - _STEMS_SHARE
    found = analyze(mixture, listened, ANALYSIS_RATE, lambda f: progress(_DECODE_SHARE + _STEMS_SHARE + share * f))
    return {"version": ANALYSIS_VERSION, **found.to_json()}


def _decoded_mono(
    store: StemCache, source: Path, settings: Settings, cancel: Callable[[], bool], progress: Callable[[float], None]
) -> np.ndarray:
    """The song itself, decoded the way separation decodes it, as mono at the analysis rate."""
    from riffroom.audio.decode import decode

    spool = store.new_staging_dir()  # on the cache's disk, swept if this process dies
    try:
        with decode(source, settings=settings, spool_dir=spool, cancel=cancel, on_progress=progress) as audio:
            return _mono_of(audio)
    finally:
        shutil.rmtree(spool, ignore_errors=True)


def _mono_of(audio: DecodedAudio) -> np.ndarray:
    """A decoded song as mono at the analysis rate, read block by block (memory stays bounded)."""
    blocks = [
        audio.read(start, min(_BLOCK_FRAMES, audio.frames - start)).mean(axis=0)
        for start in range(0, audio.frames, _BLOCK_FRAMES)
    ]
    return _at_analysis_rate(np.concatenate(blocks) if blocks else np.zeros(0, np.float32))


def _stem_mono(paths: list[Path]) -> np.ndarray:
    """The sum of these float WAV stems as mono at the analysis rate."""
    import soundfile as sf

    total = np.zeros(0, np.float32)
    for path in paths:
        with sf.SoundFile(str(path)) as wav:
            rate = int(wav.samplerate)
            blocks = [
                block.mean(axis=1, dtype=np.float32)
                for block in wav.blocks(blocksize=_BLOCK_FRAMES, dtype="float32", always_2d=True)
            ]
        mono = _at_analysis_rate(np.concatenate(blocks) if blocks else np.zeros(0, np.float32), rate)
        n = max(len(total), len(mono))
        total = np.pad(total, (0, n - len(total))) + np.pad(mono, (0, n - len(mono)))
    return total


def _at_analysis_rate(mono: np.ndarray, rate: int | None = None) -> np.ndarray:
    from riffroom.analysis.signal import to_mono
    from riffroom.audio.format import SAMPLE_RATE

    if len(mono) == 0:
        return np.zeros(0, np.float32)
    return to_mono(mono.astype(np.float32, copy=False), rate or SAMPLE_RATE)
