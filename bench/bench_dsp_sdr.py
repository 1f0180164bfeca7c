#!/usr/bin/env python3
"""SDR benchmark of the weight-free "dsp" engine on held-out synthetic songs and soundfonts.

usage: bench_dsp_sdr.py [--split eval|tune] [--songs 4] [--seconds 30] [--jobs 2] [--workers 1] [--cache DIR]

Renders (once; cached per soundfont and seed) the songs of one split with shared/corpus/make_corpus.py,
separates every mixture with the current dsp engine and with its predecessor dsp-v6 (the peer, in the same
run), chunk by chunk the way the runner does (triangular crossfades), and scores them with
shared/corpus/score.py beside the oracle-IRM and mixture/4 points of shared/corpus/baselines.py. Prints per-stem
SDR, the mean over stems, the mean per soundfont, a 95 % bootstrap interval over songs, and x real time.

The splits are the constants TUNE_SPLIT / EVAL_SPLIT below. Tune only on --split tune; --split eval is for the
figures that get reported. The soundfonts are Debian packages:
    apt-get install fluid-soundfont-gm timgm6mb-soundfont musescore-general-soundfont-small
(scripts/setup.sh installs them with WITH_TEST_SERVICES=1). `shared/` is the folder beside the repository
root (override: RIFFROOM_SHARED_DIR). The figures are synthetic General-MIDI songs: the "vocals" are sampled
choir/voice patches playing a melody, not singing, so they say how well the cues work on such mixes only.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "packages" / "backend" / "src"))

from riffroom.separation.engine import SAMPLE_RATE, MixStats  # noqa: E402  (after the path set-up)
from riffroom.separation.engines.dsp import DspEngine, DspParams  # noqa: E402
from riffroom.separation.engines.dsp.params import DSP_V6  # noqa: E402


@dataclass(frozen=True)
class Split:
    name: str
    seeds: tuple[int, ...]
    soundfonts: tuple[str, ...]


# The split, written down. dsp-v1..v6 were tuned on FluidR3_GM songs of seeds 1-6 and 8-10 (seeds 7 and 11 were
# scored and looked at, so they are in neither split). From dsp-v6 on, tune on TUNE_SPLIT only: seeds 1-3
# rendered with two soundfonts, so that a cue fitting one soundfont's timbres shows up as a gap between them.
# EVAL_SPLIT's seeds 21-23 were first rendered for this benchmark, and MuseScore_General_Lite was never used for
# any tuning, so its mean is the one closest to "a soundfont nobody looked at".
TUNE_SPLIT = Split("tune", seeds=(1, 2, 3), soundfonts=("FluidR3_GM", "TimGM6mb"))
EVAL_SPLIT = Split("eval", seeds=(21, 22, 23), soundfonts=("FluidR3_GM", "MuseScore_General_Lite"))
SPLITS = {s.name: s for s in (TUNE_SPLIT, EVAL_SPLIT)}

SOUNDFONTS = {  # name -> (file, Debian package)
    "FluidR3_GM": ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "fluid-soundfont-gm"),
    "TimGM6mb": ("/usr/share/sounds/sf2/TimGM6mb.sf2", "timgm6mb-soundfont"),
    "MuseScore_General_Lite": ("/usr/share/sounds/sf3/MuseScore_General_Lite.sf3", "musescore-general-soundfont-small"),
}
STEMS = ("drums", "bass", "vocals", "other")
COLUMNS = (*STEMS, "mean")
# best weight-free row of shared/corpus/WEIGHT-FREE-BASELINES.md (HPSS + bass + melody comb + one Wiener pass)
CLASSIC = {"drums": 4.21, "bass": 2.45, "vocals": 5.05, "other": 1.47, "mean": 3.30}


def shared_dir() -> Path:
    env = os.environ.get("RIFFROOM_SHARED_DIR")
    return Path(env) if env else REPO.parent / "shared"


def load_score_module(tools: Path) -> ModuleType:
    """shared/corpus/score.py, imported so per-song results come back without a subprocess per song."""
    spec = importlib.util.spec_from_file_location("corpus_score", tools / "score.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def ensure_corpus(tools: Path, cache: Path, font: str, seed: int, songs: int, seconds: float, jobs: int) -> Path:
    """The rendered corpus for one soundfont and seed, rendered once (songs are deterministic per index)."""
    path, package = SOUNDFONTS[font]
    out = cache / "corpus" / font / f"seed{seed}-{seconds:g}s"
    done = [out / f"song{i:03d}" / "meta.json" for i in range(songs)]
    if all(p.is_file() for p in done):
        return out
    if not Path(path).is_file():
        raise SystemExit(f"error: soundfont {path} missing: apt-get install {package}")
    print(f"rendering {songs} songs, seed {seed}, {font} -> {out}", flush=True)
    env = dict(os.environ, CORPUS_SOUNDFONT=path)
    cmd = [sys.executable, str(tools / "make_corpus.py"), str(out), "--songs", str(songs)]
    cmd += ["--seconds", str(seconds), "--seed", str(seed), "--jobs", str(jobs)]
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    return out


def separate_song(engine: DspEngine, mix: np.ndarray) -> np.ndarray:
    """Chunked separation with triangular crossfades, like the runner ([2, N] -> [4, 2, N])."""
    n = mix.shape[1]
    seg = engine.segment_frames
    stats = MixStats(float(mix.mean()), float(mix.std()), float(np.abs(mix).max()), n)
    if n <= seg:
        whole: np.ndarray = engine.separate_window(mix, stats)
        return whole
    stride = max(1, int(seg * (1 - engine.overlap)))
    out = np.zeros((len(engine.sources), 2, n), dtype=np.float64)
    weight = np.zeros(n)
    for start in range(0, n, stride):
        chunk = mix[:, start : start + seg]
        m = chunk.shape[1]
        w = np.minimum(np.arange(1, m + 1), np.arange(m, 0, -1)).astype(np.float64)
        out[..., start : start + m] += engine.separate_window(chunk, stats) * w
        weight[start : start + m] += w
        if start + m >= n:
            break
    return (out / weight).astype(np.float32)


def run_engine_on_song(args: tuple[Path, Path, DspParams, float, str]) -> tuple[dict[str, float], float, float]:
    """Separate one song, write the stems, score them: (SDR per stem, seconds of audio, seconds taken)."""
    song, est_dir, params, chunk_seconds, tools = args
    engine = DspEngine(chunk_seconds=chunk_seconds, params=params)
    mix, sr = sf.read(song / "mixture.wav", dtype="float32", always_2d=True)
    assert sr == SAMPLE_RATE, sr
    t0 = time.perf_counter()
    est = separate_song(engine, np.ascontiguousarray(mix.T))
    took = time.perf_counter() - t0
    err = float(np.abs(est.sum(axis=0) - mix.T).max())
    if err > 1e-3:
        raise SystemExit(f"error: {song}: stems do not sum to the mix (max err {err:.2e})")
    est_dir.mkdir(parents=True, exist_ok=True)
    for name, x in zip(engine.sources, est, strict=True):
        sf.write(est_dir / f"{name}.wav", x.T, sr, subtype="FLOAT")
    res, _, _ = load_score_module(Path(tools)).score_song(str(song), str(est_dir), "4")
    return {s: v["SDR"] for s, v in res.items()}, mix.shape[0] / sr, took


def baseline_scores(
    tools: Path, score: ModuleType, corpus: Path, songs: list[Path]
) -> dict[str, list[dict[str, float]]]:
    """Oracle IRM and mixture/4 SDR per song of one corpus folder, computed once and cached beside it."""
    cache = corpus.parent / f"{corpus.name}-baselines-n{len(songs)}.json"
    for n in range(len(songs), len(songs) + 64):  # songs are rendered in order: a longer list starts with ours
        path = corpus.parent / f"{corpus.name}-baselines-n{n}.json"
        if path.is_file():
            cached: dict[str, list[dict[str, float]]] = json.loads(path.read_text())
            return {label: rows[: len(songs)] for label, rows in cached.items()}
    with tempfile.TemporaryDirectory(dir=corpus.parent) as tmp:
        sub = Path(tmp) / "corpus"
        sub.mkdir()
        for s in songs:
            (sub / s.name).symlink_to(s)
        cmd = [sys.executable, str(tools / "baselines.py"), str(sub), str(Path(tmp) / "bl"), "--views", "4"]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        out = {
            label: [
                {
                    k: v["SDR"]
                    for k, v in score.score_song(str(s), str(Path(tmp) / "bl" / method / s.name), "4")[0].items()
                }
                for s in songs
            ]
            for label, method in (("oracle IRM", "irm4"), ("mixture / 4", "naive4"))
        }
    cache.write_text(json.dumps(out))
    return out


def corpus_mean(rows: list[dict[str, float]]) -> dict[str, float]:
    """score.py's figure: per stem the mean over songs that have it, then the mean over stems."""
    out = {s: float(np.mean([r[s] for r in rows if s in r])) for s in STEMS if any(s in r for r in rows)}
    out["mean"] = float(np.mean([out[s] for s in STEMS if s in out]))
    return out


def bootstrap_ci(rows: list[dict[str, float]], n_boot: int = 2000, seed: int = 0) -> tuple[float, float]:
    """95 % percentile interval of the corpus mean, resampling songs with replacement."""
    rng = np.random.default_rng(seed)
    n = len(rows)
    vals = [corpus_mean([rows[i] for i in rng.integers(0, n, n)])["mean"] for _ in range(n_boot)]
    lo, hi = np.percentile(vals, [2.5, 97.5])
    return float(lo), float(hi)


def paired_ci(a: list[dict[str, float]], b: list[dict[str, float]], n_boot: int = 2000) -> tuple[float, float, float]:
    """Mean difference a - b over the same songs and its 95 % bootstrap interval."""
    rng = np.random.default_rng(1)
    n = len(a)
    diffs = []
    for _ in range(n_boot):
        idx = rng.integers(0, n, n)
        diffs.append(corpus_mean([a[i] for i in idx])["mean"] - corpus_mean([b[i] for i in idx])["mean"])
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    return corpus_mean(a)["mean"] - corpus_mean(b)["mean"], float(lo), float(hi)


def fmt_row(name: str, r: dict[str, float], extra: str = "") -> str:
    return f"{name:<26}" + "".join(f"{r[s]:8.2f}" if s in r else f"{'-':>8}" for s in COLUMNS) + extra


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", choices=sorted(SPLITS), default="eval")
    ap.add_argument("--songs", type=int, default=4, help="songs per seed and soundfont")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--chunk-seconds", type=float, default=30.0)
    ap.add_argument("--jobs", type=int, default=2, help="parallel fluidsynth processes when rendering")
    ap.add_argument("--workers", type=int, default=1, help="songs separated in parallel (timing is per song)")
    ap.add_argument("--no-peer", action="store_true", help="skip the dsp-v6 peer")
    ap.add_argument("--cache", type=Path, default=None, help="cache root (default: $TMPDIR/riffroom-bench)")
    a = ap.parse_args()
    if a.songs < 1 or a.seconds < 2:
        ap.error("--songs must be >= 1 and --seconds >= 2")

    tools = shared_dir() / "corpus"
    if not (tools / "make_corpus.py").is_file():
        print(f"error: {tools}/make_corpus.py not found (set RIFFROOM_SHARED_DIR)", file=sys.stderr)
        return 2
    split = SPLITS[a.split]
    cache = a.cache or Path(tempfile.gettempdir()) / "riffroom-bench"
    score = load_score_module(tools)
    songs: list[tuple[str, Path]] = []  # (soundfont, song folder)
    baselines: dict[str, list[dict[str, float]]] = {"oracle IRM": [], "mixture / 4": []}
    for font in split.soundfonts:
        for seed in split.seeds:
            corpus = ensure_corpus(tools, cache, font, seed, a.songs, a.seconds, a.jobs)
            these = [corpus / f"song{i:03d}" for i in range(a.songs)]
            songs += [(font, s) for s in these]
            for label, rows in baseline_scores(tools, score, corpus, these).items():
                baselines[label] += rows

    engines = [(DspEngine.model, DspParams())]
    if DspParams() == DSP_V6:
        a.no_peer = True  # the engine is dsp-v6: the peer would be the same run twice
    if not a.no_peer:
        engines.append(("dsp-v6 (peer)", DSP_V6))
    work = Path(tempfile.mkdtemp(prefix="bench-dsp-", dir=cache))
    results: dict[str, list[dict[str, float]]] = {}
    speed: dict[str, float] = {}
    try:
        for label, params in engines:
            jobs = [
                (
                    song,
                    work / label.split()[0] / font / song.parent.name / song.name,
                    params,
                    a.chunk_seconds,
                    str(tools),
                )
                for font, song in songs
            ]
            with ProcessPoolExecutor(a.workers) as pool:
                out = list(pool.map(run_engine_on_song, jobs))
            results[label] = [r for r, _, _ in out]
            speed[label] = sum(x for _, x, _ in out) / max(sum(t for _, _, t in out), 1e-9)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results.update(baselines)

    fonts = list(split.soundfonts)
    print(
        f"\nsplit {split.name}: seeds {', '.join(map(str, split.seeds))} x soundfonts {', '.join(fonts)}, "
        f"{a.songs} songs each = {len(songs)} songs of {a.seconds:g} s"
    )
    print("SDR in dB (score.py: fast_bss_eval, whole signal, 512 taps); 95 % interval: bootstrap over songs\n")
    print(
        f"{'method':<26}"
        + "".join(f"{s:>8}" for s in COLUMNS)
        + "  95% interval  "
        + "".join(f"{f[:14]:>16}" for f in fonts)
        + "  x real time"
    )
    for label, rows in results.items():
        lo, hi = bootstrap_ci(rows)
        per_font = "".join(
            f"{corpus_mean([r for r, (f, _) in zip(rows, songs, strict=True) if f == font])['mean']:16.2f}"
            for font in fonts
        )
        rt = f"{speed[label]:11.1f}x" if label in speed else f"{'-':>12}"
        print(fmt_row(label, corpus_mean(rows), f"  [{lo:5.2f}, {hi:5.2f}]" + per_font + rt))
    print(fmt_row("classic (reference)", CLASSIC, "  WEIGHT-FREE-BASELINES.md, seed 7, FluidR3_GM"))

    main_label = engines[0][0]
    mine = corpus_mean(results[main_label])
    below = [s for s in STEMS if s in mine and mine[s] <= CLASSIC[s]]
    print(
        f"\n{main_label}: mean {mine['mean']:.2f} dB (goal >= 4.00: {'met' if mine['mean'] >= 4.0 else 'NOT met'}); "
        f"stems at or below the classic reference: {', '.join(below) or 'none'}; {speed[main_label]:.1f}x real time"
    )
    if not a.no_peer:
        d, lo, hi = paired_ci(results[main_label], results["dsp-v6 (peer)"])
        print(f"{main_label} - dsp-v6 on the same songs: {d:+.2f} dB, 95 % interval [{lo:+.2f}, {hi:+.2f}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
