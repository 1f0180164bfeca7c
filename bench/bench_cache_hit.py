"""(d) Cache-hit time: the second `riffroom separate` of the same song vs the first (dsp engine),
and the library call alone. Usage: bench_cache_hit.py [--seconds 180]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from _measure import VENV_BIN, riffroom_env, run_measured, song_of


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "riffroom-bench-cache")
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    song = song_of(args.seconds / 60, args.work / "song.wav")
    env = riffroom_env(args.work, args.work / "no-models")
    cmd = [str(VENV_BIN / "riffroom"), "separate", str(song), "--engine", "dsp", "-o", str(args.work / "out")]
    miss, _ = run_measured(cmd, env=env)
    hit, _ = run_measured(cmd, env=env)

    from riffroom.config import Settings
    from riffroom.separation.api import separate

    settings = Settings(data_dir=args.work / "data", cache_dir=args.work / "cache")
    started = time.perf_counter()
    result = separate(song, engine="dsp", settings=settings)
    api_hit = time.perf_counter() - started
    assert result.cached
    print(f"song: {args.seconds:.0f} s, dsp engine, wav output")
    print(f"first run (separates):        {miss:8.2f} s")
    print(f"second run (cache hit, CLI):  {hit:8.2f} s   (includes hashing, copying stems out, interpreter start)")
    print(f"cache hit, library call:      {api_hit:8.3f} s   (hash + index lookup)")
    print(f"ratio first / cache hit (CLI): {miss / hit:.1f}x")


if __name__ == "__main__":
    main()
