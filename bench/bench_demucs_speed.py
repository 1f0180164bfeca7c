"""(a) `riffroom separate --engine demucs` vs the `demucs` command line, same model, same file.

An untrained htdemucs of the published shape runs exactly as fast as the real one, so the ratio is
the real figure. Goal: ratio >= 1.0 (never slower). Usage: bench_demucs_speed.py [--seconds 60]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from _measure import VENV_BIN, gb, random_model_dir, riffroom_env, run_measured, song_of


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeats", type=int, default=1, help="alternate the two commands; keep each one's best")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "riffroom-bench")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    models = random_model_dir(args.work / "models")
    song = song_of(args.seconds / 60, args.work / f"song-{args.seconds:.0f}s.wav")
    shutil.rmtree(args.work / "cache", ignore_errors=True)
    shutil.rmtree(args.work / "demucs-out", ignore_errors=True)
    env = riffroom_env(args.work, models)
    ours_cmd = [
        str(VENV_BIN / "riffroom"),
        "separate",
        str(song),
        "--engine",
        "demucs",
        "-o",
        str(args.work / "ours-out"),
    ]
    peer_cmd = [
        str(VENV_BIN / "demucs"),
        "-n",
        "htdemucs",
        "--repo",
        str(models),
        "-o",
        str(args.work / "demucs-out"),
        str(song),
    ]
    ours_runs, peer_runs = [], []
    for _ in range(args.repeats):  # alternating, so background load hits both alike
        shutil.rmtree(args.work / "cache", ignore_errors=True)  # a cache hit would not be a fair race
        ours_runs.append(run_measured(ours_cmd, env=env))
        peer_runs.append(run_measured(peer_cmd, env=env))
    ours_s, ours_rss = min(ours_runs)
    peer_s, peer_rss = min(peer_runs)
    print(f"best of {args.repeats} alternating runs each")
    print(f"song: {args.seconds:.0f} s, model: htdemucs (random weights, published shape), CPU")
    print(f"{'':<22}{'seconds':>10}{'x realtime':>12}{'peak RSS':>12}")
    print(f"{'riffroom separate':<22}{ours_s:>10.1f}{ours_s / args.seconds:>12.2f}{gb(ours_rss):>12}")
    print(f"{'demucs CLI':<22}{peer_s:>10.1f}{peer_s / args.seconds:>12.2f}{gb(peer_rss):>12}")
    print(f"speed ratio (demucs time / riffroom time): {peer_s / ours_s:.2f}  (goal >= 1.0)")


if __name__ == "__main__":
    main()
