"""(b) Peak RSS of `riffroom separate --engine demucs` for 1, 5 and 10 minute songs vs the demucs CLI.

Goals: ours below 1.5 GB at 10 minutes, and RSS(10 min) / RSS(1 min) < 1.5.
Usage: bench_memory.py [--minutes 1,5,10] [--no-peer]   (10 minutes of htdemucs on 2 CPU cores is slow)
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from _measure import VENV_BIN, gb, random_model_dir, riffroom_env, run_measured, song_of


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", default="1,5,10")
    parser.add_argument("--no-peer", action="store_true", help="skip the demucs CLI runs")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "riffroom-bench")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    models = random_model_dir(args.work / "models")
    env = riffroom_env(args.work, models)
    rows = []
    for minutes in [float(m) for m in args.minutes.split(",")]:
        song = song_of(minutes, args.work / f"song-{minutes:g}min.wav")
        shutil.rmtree(args.work / "cache", ignore_errors=True)
        ours_s, ours = run_measured(
            [
                str(VENV_BIN / "riffroom"),
                "separate",
                str(song),
                "--engine",
                "demucs",
                "-o",
                str(args.work / "ours-out"),
            ],
            env=env,
        )
        peer = peer_s = None
        if not args.no_peer:
            peer_s, peer = run_measured(
                [
                    str(VENV_BIN / "demucs"),
                    "-n",
                    "htdemucs",
                    "--repo",
                    str(models),
                    "-o",
                    str(args.work / "demucs-out"),
                    str(song),
                ],
                env=env,
            )
        rows.append((minutes, ours, ours_s, peer, peer_s))
        print(
            f"{minutes:g} min: riffroom {gb(ours)} in {ours_s:.0f} s"
            + (f" | demucs CLI {gb(peer)} in {peer_s:.0f} s | ratio demucs/ours {peer / ours:.2f}" if peer else ""),
            flush=True,
        )
    print(f"\n{'minutes':>8}{'riffroom':>12}{'demucs CLI':>12}{'CLI/ours':>10}")
    for minutes, ours, _, peer, _ in rows:
        peer_text, ratio = (gb(peer), f"{peer / ours:.2f}") if peer else ("-", "-")
        print(f"{minutes:>8g}{gb(ours):>12}{peer_text:>12}{ratio:>10}")
    first, last = rows[0], rows[-1]
    if last[0] > first[0]:
        print(f"riffroom RSS({last[0]:g} min) / RSS({first[0]:g} min) = {last[1] / first[1]:.2f} (goal < 1.5)")
        if first[3] and last[3]:
            print(f"demucs CLI RSS({last[0]:g} min) / RSS({first[0]:g} min) = {last[3] / first[3]:.2f}")


if __name__ == "__main__":
    main()
