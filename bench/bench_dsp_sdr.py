#!/usr/bin/env python3
"""SDR benchmark of the weight-free "dsp" engine on the shared synthetic corpus.

usage: bench_dsp_sdr.py [--songs 4] [--seconds 30] [--seed 7] [--cache DIR] [--keep]

Renders (or reuses) the corpus with shared/corpus/make_corpus.py, separates every mixture with DspEngine
chunk by chunk the way the runner does (triangular crossfades), writes the oracle-IRM and mixture/4 reference
points with shared/corpus/baselines.py, scores all three with shared/corpus/score.py and prints one table.
`shared/` is the folder beside the repository root (override: RIFFROOM_SHARED_DIR).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "packages" / "backend" / "src"))

from riffroom.separation.engine import SAMPLE_RATE, MixStats  # noqa: E402  (after the path set-up)
from riffroom.separation.engines.dsp import DspEngine  # noqa: E402

STEMS = ("drums", "bass", "vocals", "other")
FALLBACK_BEST = 3.30  # best weight-free mean SDR in WEIGHT-FREE-BASELINES.md


def shared_dir() -> Path:
    env = os.environ.get("RIFFROOM_SHARED_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared"


def reference_best(corpus_tools: Path) -> tuple[float, dict[str, float]]:
    """The best weight-free row (highest mean) of WEIGHT-FREE-BASELINES.md, excluding the oracle."""
    path = corpus_tools / "WEIGHT-FREE-BASELINES.md"
    best: tuple[float, dict[str, float]] = (FALLBACK_BEST, {})
    if not path.is_file():
        return best
    header: list[str] = []
    for line in path.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if "mean" in cells and "drums" in cells:
            header = cells
            continue
        if not header or len(cells) != len(header) or "oracle" in cells[0] or "mixture" in cells[0]:
            continue
        try:
            vals = {
                h: float(c.replace("\u2212", "-")) for h, c in zip(header, cells, strict=True) if h in (*STEMS, "mean")
            }
        except ValueError:
            continue
        if vals.get("mean", -1e9) > (best[0] if best[1] else -1e9):
            best = (vals["mean"], vals)
    return best


def run(cmd: list[str]) -> str:
    res = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return res.stdout


def separate_song(engine: DspEngine, mix: np.ndarray) -> np.ndarray:
    """Chunked separation with triangular crossfades, like the runner ([2, N] -> [4, 2, N])."""
    n = mix.shape[1]
    seg = engine.segment_frames
    if n <= seg:
        stats = MixStats(float(mix.mean()), float(mix.std()), float(np.abs(mix).max()), n)
        return engine.separate_window(mix, stats)
    stride = max(1, int(seg * (1 - engine.overlap)))
    out = np.zeros((len(engine.sources), 2, n), dtype=np.float64)
    weight = np.zeros(n)
    stats = MixStats(float(mix.mean()), float(mix.std()), float(np.abs(mix).max()), n)
    for start in range(0, n, stride):
        chunk = mix[:, start : start + seg]
        m = chunk.shape[1]
        w = np.minimum(np.arange(1, m + 1), np.arange(m, 0, -1)).astype(np.float64)
        out[..., start : start + m] += engine.separate_window(chunk, stats) * w
        weight[start : start + m] += w
        if start + m >= n:
            break
    return (out / weight).astype(np.float32)


def parse_scores(text: str) -> dict[str, float]:
    """score.py --json -> per-stem SDR and the mean."""
    data = json.loads(text)
    out = {s: v["SDR"] for s, v in data["per_stem"].items()}
    out["mean"] = data["mean_over_stems"]["SDR"]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--songs", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--chunk-seconds", type=float, default=30.0)
    ap.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="corpus cache root (default: $TMPDIR/riffroom-bench)",
    )
    ap.add_argument("--keep", action="store_true", help="keep the estimate / baseline folders")
    a = ap.parse_args()

    tools = shared_dir() / "corpus"
    if not (tools / "make_corpus.py").is_file():
        print(
            f"error: {tools}/make_corpus.py not found (set RIFFROOM_SHARED_DIR)",
            file=sys.stderr,
        )
        return 2
    py = sys.executable
    cache_root = a.cache or Path(tempfile.gettempdir()) / "riffroom-bench"
    corpus = cache_root / f"corpus-s{a.seed}-n{a.songs}-{a.seconds:g}s"
    songs = sorted(corpus.glob("song*/mixture.wav")) if corpus.is_dir() else []
    if len(songs) < a.songs:
        print(f"rendering corpus -> {corpus}", flush=True)
        run(
            [
                py,
                str(tools / "make_corpus.py"),
                str(corpus),
                "--songs",
                str(a.songs),
                "--seconds",
                str(a.seconds),
                "--seed",
                str(a.seed),
                "--jobs",
                "1",
            ]
        )
        songs = sorted(corpus.glob("song*/mixture.wav"))

    work = Path(tempfile.mkdtemp(prefix="bench-dsp-", dir=cache_root))
    est_dir, bl_dir = work / "dsp", work / "bl"
    engine = DspEngine(chunk_seconds=a.chunk_seconds)
    audio_s = proc_s = 0.0
    for mix_path in songs:
        mix, sr = sf.read(mix_path, dtype="float32", always_2d=True)
        assert sr == SAMPLE_RATE, sr
        t0 = time.perf_counter()
        est = separate_song(engine, np.ascontiguousarray(mix.T))
        proc_s += time.perf_counter() - t0
        audio_s += mix.shape[0] / sr
        err = float(np.abs(est.sum(axis=0) - mix.T).max())
        if err > 1e-3:
            print(
                f"error: {mix_path.parent.name}: stems do not sum to the mix (max err {err:.2e})",
                file=sys.stderr,
            )
            return 1
        od = est_dir / mix_path.parent.name
        od.mkdir(parents=True, exist_ok=True)
        for name, x in zip(engine.sources, est, strict=True):
            sf.write(od / f"{name}.wav", x.T, sr, subtype="FLOAT")

    run([py, str(tools / "baselines.py"), str(corpus), str(bl_dir), "--views", "4"])
    rows = {
        f"dsp ({engine.model})": parse_scores(run([py, str(tools / "score.py"), str(corpus), str(est_dir), "--json"])),
        "oracle IRM": parse_scores(
            run(
                [
                    py,
                    str(tools / "score.py"),
                    str(corpus),
                    str(bl_dir / "irm4"),
                    "--json",
                ]
            )
        ),
        "mixture / 4": parse_scores(
            run(
                [
                    py,
                    str(tools / "score.py"),
                    str(corpus),
                    str(bl_dir / "naive4"),
                    "--json",
                ]
            )
        ),
    }
    best_mean, best_row = reference_best(tools)
    rows["best weight-free (ref)"] = best_row or {"mean": best_mean}

    print(f"\ncorpus: {corpus} ({len(songs)} songs, seed {a.seed}); SDR in dB (fast_bss_eval, score.py)")
    print(f"{'method':<24}" + "".join(f"{s:>9}" for s in (*STEMS, "mean")))
    for name, r in rows.items():
        print(f"{name:<24}" + "".join(f"{r[s]:9.2f}" if s in r else f"{'-':>9}" for s in (*STEMS, "mean")))
    dsp_mean = rows[f"dsp ({engine.model})"]["mean"]
    print(
        f"\ndsp mean / best weight-free mean: {dsp_mean:.2f} / {best_mean:.2f} dB = {dsp_mean / best_mean:.2f}x "
        f"({dsp_mean - best_mean:+.2f} dB)"
    )
    print(
        f"real-time factor: {audio_s:.1f} s of audio in {proc_s:.2f} s = {audio_s / max(proc_s, 1e-9):.1f}x "
        f"({proc_s / max(len(songs), 1):.2f} s per song)"
    )
    if not a.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"estimates kept in {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
