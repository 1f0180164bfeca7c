"""Claim to first chunk: seconds from `separate()` being called (a worker has just claimed the job,
its engine already loaded) to the engine starting on the song's first window.

Songs of 60 s and 4 minutes, wav (PCM 16) and mp3, dsp and an untrained htdemucs of the published
shape. Each case runs `--repeats` times in a fresh cache and prints the median; the run is cancelled
as soon as the first window starts, so the full separation is not waited for. With `--stats`
the song's mix statistics are known beforehand (a worker keeps them after a song's first decode).
A new song streams its decode with dsp (no statistics needed) and decodes in full first with
demucs (it normalises by them); the peer printed beside each case is a full decode of the same
song in the same run, the wait before the first window when every song decoded in full first.
Usage: bench_first_chunk.py [--repeats 3] [--stats]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from _measure import random_model_dir, song_of


class _FirstWindow:
    """Wraps an engine: remembers when its first window starts."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine
        self.started_at: float | None = None

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._engine, name)
        if name in ("separate_window", "separate_windows"):

            def timed(*args: Any, **kwargs: Any) -> Any:
                if self.started_at is None:
                    self.started_at = time.perf_counter()
                return attr(*args, **kwargs)

            return timed
        return attr


def _one(song: Path, engine: str, work: Path, model_dir: Path, with_stats: bool) -> float:
    import riffroom.separation.api as api
    from riffroom.config import Settings
    from riffroom.errors import CancelledError

    shutil.rmtree(work / "cache", ignore_errors=True)
    settings = Settings(data_dir=work / "data", cache_dir=work / "cache", model_dir=model_dir, device="cpu")
    wrapped: list[_FirstWindow] = []
    real_get_engine = api.get_engine

    def get_engine(*args: Any, **kwargs: Any) -> Any:
        wrapped.append(_FirstWindow(real_get_engine(*args, **kwargs)))
        return wrapped[-1]

    api.get_engine = get_engine  # type: ignore[assignment]
    from riffroom.audio.hashing import sha256_file
    from riffroom.audio.probe import probe

    sha = sha256_file(song)  # a worker has it from the song's row…
    probed = probe(song, settings)  # …and what the upload's probe found
    try:
        known = None
        if with_stats:
            from riffroom.audio.mix_stats import measure_mix_stats

            known = measure_mix_stats(song, settings=settings)
        started = time.perf_counter()
        try:
            kwargs: dict[str, Any] = {"sha256": sha, "source_info": probed}
            if with_stats:
                kwargs["mix_stats"] = known
            api.separate(
                song,
                engine=engine,
                settings=settings,
                cancel=lambda: bool(wrapped and wrapped[-1].started_at),
                **kwargs,
            )
        except CancelledError:
            pass
    finally:
        api.get_engine = real_get_engine
    first = wrapped[-1].started_at if wrapped else None
    if first is None:
        raise RuntimeError("the engine never started a window")
    return first - started


def _full_decode(song: Path, work: Path) -> float:
    """Seconds for one full decode of `song` (the old path's wait before its first window)."""
    from riffroom.audio.decode import decode
    from riffroom.config import Settings

    settings = Settings(data_dir=work / "data", cache_dir=work / "cache-decode", device="cpu")
    started = time.perf_counter()
    decode(song, settings=settings).close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--stats", action="store_true", help="compute the mix statistics first, as an upload does")
    parser.add_argument("--only", default="", help="run only the cases whose name holds this, e.g. '4 min'")
    parser.add_argument("--both", action="store_true", help="each case without, then with the mix stats known")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "riffroom-bench-first-chunk")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    model_dir = random_model_dir(args.work / "models")
    songs: dict[str, Path] = {}
    for minutes in (1.0, 4.0):
        wav = song_of(minutes, args.work / f"song-{minutes:g}min.wav")
        mp3 = wav.with_suffix(".mp3")
        if not mp3.exists():
            subprocess.run(
                ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(wav), "-b:a", "192k", str(mp3)], check=True
            )
        songs[f"{minutes:g} min wav"] = wav
        songs[f"{minutes:g} min mp3"] = mp3
    from riffroom.config import Settings
    from riffroom.separation.engines import choose, get_engine

    settings = Settings(data_dir=args.work / "data", model_dir=model_dir, device="cpu")
    for engine in ("dsp", "demucs"):  # loaded before timing, as a worker loads it before its claim
        get_engine(
            choose(engine, "htdemucs", model_dir),
            model_dir=model_dir,
            device="cpu",
            dsp_chunk_seconds=settings.dsp_chunk_seconds,
        )
    print(f"load: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cores; mix stats known first: {args.stats}")
    for engine in ("dsp", "demucs"):
        for name, song in songs.items():
            if args.only not in f"{engine} {name}":
                continue
            for with_stats in (False, True) if args.both else (args.stats,):
                times, decodes = [], []
                for _ in range(args.repeats):  # alternating, so both see the same load
                    times.append(_one(song, engine, args.work, model_dir, with_stats))
                    decodes.append(_full_decode(song, args.work))
                runs = ", ".join(f"{t:.3f}" for t in times)
                streams = with_stats or engine == "dsp"
                label = "stats known" if with_stats else ("new song, streamed" if streams else "new song, full decode")
                median, peer = statistics.median(times), statistics.median(decodes)
                print(
                    f"{engine:7s} {name:12s} {label}: claim -> first chunk median {median:6.3f} s ({runs}); "
                    f"a full decode {peer:6.3f} s (ratio {median / peer:.2f})",
                    flush=True,
                )


if __name__ == "__main__":
    main()
