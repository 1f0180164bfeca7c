"""bench_dsp_sdr.py's statistics and tables: corpus means, bootstrap intervals over songs, and the printed rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np

STEMS = ("drums", "bass", "vocals", "other")
TWO_STEMS = ("vocals", "accompaniment")
# best weight-free row of shared/corpus/WEIGHT-FREE-BASELINES.md (HPSS + bass + melody comb + one Wiener pass)
CLASSIC = {"drums": 4.21, "bass": 2.45, "vocals": 5.05, "other": 1.47, "mean": 3.30}


def corpus_mean(rows: list[dict[str, float]], stems: tuple[str, ...] = STEMS) -> dict[str, float]:
    """score.py's figure: per stem the mean over songs that have it, then the mean over stems."""
    out = {s: float(np.mean([r[s] for r in rows if s in r])) for s in stems if any(s in r for r in rows)}
    out["mean"] = float(np.mean([out[s] for s in stems if s in out]))
    return out


def bootstrap_ci(
    rows: list[dict[str, float]], stems: tuple[str, ...] = STEMS, n_boot: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """95 % percentile interval of the corpus mean, resampling songs with replacement."""
    rng = np.random.default_rng(seed)
    n = len(rows)
    vals = [corpus_mean([rows[i] for i in rng.integers(0, n, n)], stems)["mean"] for _ in range(n_boot)]
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


def fmt_row(name: str, r: dict[str, float], columns: tuple[str, ...], extra: str = "") -> str:
    return f"{name:<26}" + "".join(f"{r[s]:>8.2f}" if s in r else f"{'-':>8}" for s in columns) + extra


def print_table(
    title: str,
    stems: tuple[str, ...],
    results: dict[str, list[dict[str, float]]],
    speed: dict[str, float],
    songs: list[tuple[str, Path]],
    fonts: list[str],
) -> None:
    """One table: a row per method (per-stem SDR, mean, 95 % interval, mean per soundfont, x real time)."""
    columns = (*stems, "mean")
    width = 14 if len(stems) == 2 else 8
    print(f"\n{title}")
    print(
        f"{'method':<26}"
        + "".join(f"{s:>{width}}" for s in columns)
        + "  95% interval  "
        + "".join(f"{f[:14]:>16}" for f in fonts)
        + "  x real time"
    )
    for label, rows in results.items():
        lo, hi = bootstrap_ci(rows, stems)
        per_font = "".join(
            f"{corpus_mean([r for r, (f, _) in zip(rows, songs, strict=True) if f == font], stems)['mean']:16.2f}"
            for font in fonts
        )
        rt = f"{speed[label]:11.1f}x" if label in speed else f"{'-':>12}"
        mean = corpus_mean(rows, stems)
        cells = "".join(f"{mean[s]:>{width}.2f}" if s in mean else f"{'-':>{width}}" for s in columns)
        print(f"{label:<26}{cells}  [{lo:5.2f}, {hi:5.2f}]{per_font}{rt}")
    if stems == STEMS:
        print(fmt_row("classic (reference)", CLASSIC, columns, "  WEIGHT-FREE-BASELINES.md, seed 7, FluidR3_GM"))
