"""(a) `riffroom separate --engine demucs` vs the `demucs` command line, same model, same file.

An untrained htdemucs of the published shape runs exactly as fast as the real one, so the ratio is
the real figure. The two commands alternate and each one's median is kept; the load average is
printed with them. `--vendor-mkl` also times riffroom with MKL's own kernel choice
(RIFFROOM_MKL_DISPATCH=vendor: what it ran before mkl_dispatch.py) in the same alternation.
`--lossy bf16` then times the opt-in bf16 engine against the exact one in process (same
windows, alternating) and prints its SNR against the exact output.
Usage: bench_demucs_speed.py [--seconds 60] [--repeats 3] [--vendor-mkl] [--lossy bf16]
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

import numpy as np
from _measure import VENV_BIN, gb, random_model_dir, riffroom_env, run_measured, song_of


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeats", type=int, default=3, help="alternate the two commands; keep each one's median")
    parser.add_argument("--vendor-mkl", action="store_true", help="also time riffroom on MKL's own kernel choice")
    parser.add_argument("--lossy", choices=["bf16"], default=None, help="also time this lossy precision")
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
    started = time.perf_counter()  # the compiled network, built once per machine and model (not timed below)
    build = [str(VENV_BIN / "python"), "-m", "riffroom.separation.engines.demucs_compiled", "htdemucs"]
    subprocess.run(build, env=env, check=True, stdout=subprocess.DEVNULL)
    print(f"compiled network ready in {time.perf_counter() - started:.0f} s (a cached package loads in < 1 s)")
    ours_runs, peer_runs, vendor_runs, loads = [], [], [], []
    vendor_env = dict(env, RIFFROOM_MKL_DISPATCH="vendor")
    for _ in range(args.repeats):  # alternating, so background load hits both alike
        loads.append(os.getloadavg()[0])
        ours_runs.append(run_measured(ours_cmd, env=env))
        shutil.rmtree(args.work / "cache", ignore_errors=True)  # a cache hit would not be a fair race
        peer_runs.append(run_measured(peer_cmd, env=env))
        line = f"  riffroom {ours_runs[-1][0]:.1f} s, demucs {peer_runs[-1][0]:.1f} s"
        if args.vendor_mkl:
            vendor_runs.append(run_measured(ours_cmd, env=vendor_env))
            shutil.rmtree(args.work / "cache", ignore_errors=True)
            line += f", riffroom on MKL's own choice {vendor_runs[-1][0]:.1f} s"
        print(f"{line} (load {loads[-1]:.1f})", flush=True)
    ours_s = statistics.median(t for t, _ in ours_runs)
    peer_s = statistics.median(t for t, _ in peer_runs)
    ours_rss = max(r for _, r in ours_runs)
    peer_rss = max(r for _, r in peer_runs)
    print(
        f"median of {args.repeats} alternating runs each (peak RSS: the highest); "
        f"load average {min(loads):.1f}-{max(loads):.1f}"
    )
    print(f"song: {args.seconds:.0f} s, model: htdemucs (random weights, published shape), CPU")
    print(f"{'':<22}{'seconds':>10}{'x realtime':>12}{'peak RSS':>12}")
    print(f"{'riffroom separate':<22}{ours_s:>10.1f}{ours_s / args.seconds:>12.2f}{gb(ours_rss):>12}")
    print(f"{'demucs CLI':<22}{peer_s:>10.1f}{peer_s / args.seconds:>12.2f}{gb(peer_rss):>12}")
    if vendor_runs:
        vendor_s = statistics.median(t for t, _ in vendor_runs)
        vendor_rss = gb(max(r for _, r in vendor_runs))
        print(f"{'riffroom, MKL vendor':<22}{vendor_s:>10.1f}{vendor_s / args.seconds:>12.2f}{vendor_rss:>12}")
        print(f"MKL by CPU features vs MKL's own choice: {vendor_s / ours_s:.2f}x")
    print(f"speed ratio (demucs time / riffroom time): {peer_s / ours_s:.2f}  (goal >= 1.5)")
    if args.lossy:
        lossy_vs_exact(song, models, args.lossy, args.repeats)


def lossy_vs_exact(song: Path, models: Path, precision: str, repeats: int) -> None:
    """The opt-in lossy engine against the exact one, in this process, on the same song."""
    from riffroom.audio.decode import decode
    from riffroom.config import Settings
    from riffroom.separation.engines.demucs_engine import DemucsEngine
    from riffroom.separation.runner import run_chunked

    settings = Settings(model_dir=models)
    engines = {
        "fp32": DemucsEngine("htdemucs", model_dir=models),
        precision: DemucsEngine("htdemucs", model_dir=models, precision=precision),
    }
    times: dict[str, list[float]] = {name: [] for name in engines}
    outputs: dict[str, np.ndarray] = {}
    for _ in range(repeats):
        for name, engine in engines.items():
            blocks: list[np.ndarray] = []
            started = time.perf_counter()
            with decode(song, settings=settings) as audio:
                run_chunked(engine, audio, blocks.append)
            times[name].append(time.perf_counter() - started)
            outputs[name] = np.concatenate(blocks, axis=-1).astype(np.float64)
    ref, est = outputs["fp32"], outputs[precision]
    snr = 10 * np.log10((ref**2).sum() / max(((ref - est) ** 2).sum(), 1e-30))
    exact_s, lossy_s = statistics.median(times["fp32"]), statistics.median(times[precision])
    print(
        f"lossy {precision} (opt-in, never the default), in process, median of {repeats}, "
        f"load {os.getloadavg()[0]:.1f}:"
    )
    print(
        f"  fp32 {exact_s:.1f} s, {precision} {lossy_s:.1f} s: {exact_s / lossy_s:.2f}x faster, "
        f"SNR {snr:.1f} dB vs fp32"
    )


if __name__ == "__main__":
    main()
