"""`riffroom analyze SONG...`: tempo, meter, beats, key, chords and sections of each song.

Each song is separated first through `separate()` (so from the stem cache when it was split the
same way before), then analysed by the job's own analysis stage (`jobs/analysis_stage.py`), which
keeps the result beside the stems: a second run, or the server sharing this cache, reads it back.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import Settings
from .batch import SONG_ERRORS, TerminalBar, add_engine_options, song_error

if TYPE_CHECKING:
    import numpy as np

SEPARATION_SHARE = 0.6  # of the progress bar; the analysis gets the rest
CHORDS_SHOWN = 8
TEMPO_SPREAD = 0.04  # a wider tempo range than this is shown as the song's tempo changing
BLOCK_FRAMES = 1 << 18  # stems are read in blocks of this many frames and folded to mono as they come

Report = Callable[[str, float, "float | None"], None]  # stage, fraction of the whole song, ETA


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    ana: argparse.ArgumentParser = subparsers.add_parser(
        "analyze",
        help="tempo, meter, beats, key, chords and sections of songs",
        description="Separate each song (from the stem cache when it was separated the same way before), then "
        "analyse its stems: tempo and tempo curve, meter, beats and downbeats, key, chords and sections. "
        "The analysis is kept beside the stems in the cache, so a second run (or the server, when it shares "
        "the cache) reads it back. Bad files are reported on stderr, one line each; the others are still "
        "analysed and the exit status is 1.",
    )
    ana.add_argument("songs", nargs="+", type=Path, metavar="SONG")
    add_engine_options(ana)
    ana.add_argument("--json", action="store_true", help="one JSON object per song on stdout (JSON lines)")
    ana.set_defaults(func=cmd_analyze)
    return ana


class _SongBar:
    """The progress bar of one song on a terminal's stderr; nothing when stderr is not a terminal."""

    def __init__(self, song: Path) -> None:
        self.song = song
        self._bar = TerminalBar() if sys.stderr.isatty() else None

    def show(self, stage: str, fraction: float, eta_seconds: float | None) -> None:
        if self._bar is not None:
            self._bar.show(self.song.name, stage, fraction, eta_seconds)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def cmd_analyze(args: argparse.Namespace, settings: Settings) -> int:
    failures = 0
    for song in args.songs:
        bar = _SongBar(song)
        try:
            analysis = analyze_song(song, engine=args.engine, model=args.model, settings=settings, report=bar.show)
        except KeyboardInterrupt:
            bar.close()
            print(f"{song}: cancelled", file=sys.stderr)
            return 130
        except SONG_ERRORS as exc:
            bar.close()
            failures += 1
            print(f"{song}: {song_error(exc)}", file=sys.stderr)
            continue
        bar.close()
        if args.json:
            print(json.dumps({**analysis, "file": str(song)}), flush=True)
        else:
            print(summary(song, analysis), flush=True)
    return 1 if failures else 0


def analyze_song(song: Path, *, engine: str, model: str | None, settings: Settings, report: Report) -> dict[str, Any]:
    """Separate `song` (or find its stems in the cache), then analyse them: the analysis's JSON form."""
    from ..jobs.analysis_stage import ensure_analysis, read_analysis
    from ..separation.api import Progress, separate
    from ..storage.stems import open_stem_store

    def on_separation(p: Progress) -> None:
        report(p.stage, SEPARATION_SHARE * p.fraction, p.eta_seconds)

    def on_analysis(fraction: float) -> None:
        report("analysing", SEPARATION_SHARE + (1 - SEPARATION_SHARE) * fraction, None)

    result = separate(song, engine=engine, model=model, progress=on_separation, settings=settings)
    try:
        store = open_stem_store(settings)
        ensure_analysis(store, result.cache_key, song, settings=settings, cancel=lambda: False, progress=on_analysis)
        stored = read_analysis(store, result.cache_key)
        if stored is None:  # the store did not keep these stems (larger than its whole budget)
            stored = _analyse_unkept(result.stems, on_analysis)
    finally:
        result.release()
    return {k: v for k, v in stored.items() if k != "version"}


def _analyse_unkept(files: dict[str, Path], progress: Callable[[float], None]) -> dict[str, Any]:
    """The analysis of stems the store refused, read from their private folder and not kept."""
    from ..analysis import analyze

    mixture, stems, rate = _read_stems(files)
    return analyze(mixture, stems, rate, progress).to_json()


def _read_stems(files: dict[str, Path]) -> tuple[np.ndarray, dict[str, np.ndarray], int]:
    """Every stem as mono float32, and their sum as the mixture: the stems add back up to the
    song (exactly for dsp, closely for demucs), so it is not decoded a second time."""
    import numpy as np
    import soundfile as sf

    stems: dict[str, np.ndarray] = {}
    rates = set()
    for name, path in files.items():
        rates.add(sf.info(str(path)).samplerate)
        blocks = [b.mean(axis=1) for b in sf.blocks(str(path), blocksize=BLOCK_FRAMES, dtype="float32", always_2d=True)]
        stems[name] = np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)
    if len(rates) != 1:
        raise ValueError(f"the stems have different sample rates ({sorted(rates)})")
    n = min(len(s) for s in stems.values())
    mixture = np.zeros(n, dtype=np.float32)
    for name in stems:
        stems[name] = stems[name][:n]
        mixture += stems[name]
    return mixture, stems, rates.pop()


def summary(song: Path, analysis: dict[str, Any]) -> str:
    """A few lines a person reads: tempo, meter, key, the first chords and the sections."""
    lines = [f"{song}"]
    bpm = analysis["bpm"]
    if bpm is None:
        lines.append(f"  tempo     {analysis['message'] or 'no steady beat found'}")
    else:
        tempos = sorted(b for _, b in analysis["tempo_curve"]) or [bpm]
        low, high = tempos[len(tempos) // 10], tempos[-1 - len(tempos) // 10]  # past the odd stray beat
        spread = f" ({low:.0f}-{high:.0f} over the song)" if high - low > TEMPO_SPREAD * bpm else ""
        lines.append(f"  tempo     {bpm:.1f} BPM{spread}")
        lines.append(f"  meter     {analysis['time_signature']}")
    if analysis["key"]:
        lines.append(f"  key       {analysis['key']} (confidence {analysis['key_confidence']:.2f})")
    else:
        lines.append("  key       unclear")
    chords = [c["label"] for c in analysis["chords"] if c["label"] != "N"]
    more = " ..." if len(chords) > CHORDS_SHOWN else ""
    lines.append(f"  chords    {' '.join(chords[:CHORDS_SHOWN]) or 'none found'}{more}")
    sections = ", ".join(f"{s['label']} {_clock(s['start'])}" for s in analysis["sections"])
    lines.append(f"  sections  {sections or 'none found'}")
    return "\n".join(lines)


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"
