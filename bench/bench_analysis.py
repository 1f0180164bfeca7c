#!/usr/bin/env python3
"""Accuracy and speed of `riffroom.analysis` on the shared synthetic corpus, beside two peers.

usage: bench_analysis.py [--split tuning|evaluation] [--cache DIR] [--long]

Renders (or reuses) the corpus with shared/corpus/make_corpus.py. The "stems" given to `analyze` are
the corpus's TRUE stems: this measures analysis, not separation. Each song is also analysed from its
mixture alone (the gain from stems). Peers, run in the same process: librosa's `beat_track` on the
mixture, and a plain chroma-template chord recogniser on the mixture (librosa CQT chroma, 24 triad
templates, no smoothing). Scores are mir_eval's: beat and downbeat F-measure (±70 ms), chord
`majmin`/`sevenths` weighted accuracy, key weighted score. `--long` adds one 4-minute song for speed.

The TUNING split was looked at while developing; the EVALUATION split (other seeds, and another
soundfont, TimGM6mb) was not. `shared/` is the folder beside the repository root (RIFFROOM_SHARED_DIR).
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
from typing import Any

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "packages" / "backend" / "src"))

from riffroom.analysis import analyze  # noqa: E402  (after the path set-up)

FLUID = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
TIMGM = "/usr/share/sounds/sf2/TimGM6mb.sf2"
# (name, seed, songs, seconds, soundfont, tempo changes)
SPLITS: dict[str, list[tuple[str, int, int, float, str, bool]]] = {
    "tuning": [
        ("tune-s101", 101, 4, 40.0, FLUID, False),
        ("tune-s102-tempo", 102, 3, 40.0, FLUID, True),
        ("tune-s103", 103, 4, 40.0, FLUID, False),
        ("tune-s104", 104, 4, 40.0, FLUID, False),
        ("tune-s105-timgm", 105, 4, 40.0, TIMGM, False),
        ("tune-s106-tempo", 106, 3, 40.0, FLUID, True),
        ("tune-s107", 107, 4, 40.0, FLUID, False),
    ],
    "evaluation": [
        ("eval-s201", 201, 5, 40.0, FLUID, False),
        ("eval-s202-timgm", 202, 5, 40.0, TIMGM, False),
        ("eval-s203-tempo", 203, 4, 40.0, FLUID, True),
    ],
}
STEM_NAMES = ("drums", "bass", "guitar", "piano", "vocals", "other")


def shared_dir() -> Path:
    env = os.environ.get("RIFFROOM_SHARED_DIR")
    return Path(env) if env else REPO.parent / "shared"


def render(root: Path, name: str, seed: int, songs: int, seconds: float, sf2: str, tempo: bool) -> list[Path]:
    out = root / name
    if not sorted(out.glob("song*/meta.json")):
        if not Path(sf2).is_file():
            sys.exit(f"error: soundfont {sf2} missing (Debian: apt-get install timgm6mb-soundfont fluid-soundfont-gm)")
        cmd = [sys.executable, str(shared_dir() / "corpus" / "make_corpus.py"), str(out), "--songs", str(songs)]
        cmd += ["--seconds", str(seconds), "--seed", str(seed), "--jobs", "2", *(["--tempo-changes"] if tempo else [])]
        print(f"rendering {out}", flush=True)
        subprocess.run(cmd, check=True, env={**os.environ, "CORPUS_SOUNDFONT": sf2}, stdout=subprocess.DEVNULL)
    return sorted(p.parent for p in out.glob("song*/meta.json"))


def load(song: Path, name: str) -> np.ndarray:
    x, _ = sf.read(song / f"{name}.wav", dtype="float32", always_2d=True)
    return np.ascontiguousarray(x.T)


def score(
    meta: dict[str, Any], beats: list[float], downbeats: list[float], chords: list[dict[str, Any]], key: str | None
) -> dict[str, float]:
    import mir_eval

    out = {
        "beat_f": float(mir_eval.beat.f_measure(np.array(meta["beats"]), np.array(beats))),
        "downbeat_f": float(mir_eval.beat.f_measure(np.array(meta["downbeats"]), np.array(downbeats))),
    }
    if chords:
        ref_iv = np.array([[c["start"], c["end"]] for c in meta["chords"]])
        ref_lab = [c["label"] for c in meta["chords"]]
        est_iv = np.array([[c["start"], c["end"]] for c in chords])
        est_lab = [c["label"] for c in chords]
        est_iv, est_lab = mir_eval.util.adjust_intervals(
            est_iv, est_lab, ref_iv.min(), ref_iv.max(), mir_eval.chord.NO_CHORD, mir_eval.chord.NO_CHORD
        )
        iv, r, e = mir_eval.util.merge_labeled_intervals(ref_iv, ref_lab, est_iv, est_lab)
        dur = mir_eval.util.intervals_to_durations(iv)
        out["majmin"] = float(mir_eval.chord.weighted_accuracy(mir_eval.chord.majmin(r, e), dur))
        out["sevenths"] = float(mir_eval.chord.weighted_accuracy(mir_eval.chord.sevenths(r, e), dur))
    if key is not None:
        out["key"] = float(mir_eval.key.weighted_score(meta["key"], key)) if key else 0.0
    return out


def peer_beats(mix: np.ndarray) -> list[float]:
    import librosa

    y = librosa.resample(mix.mean(axis=0), orig_sr=44100, target_sr=22050)
    _, frames = librosa.beat.beat_track(y=y, sr=22050, units="time")
    return [float(t) for t in frames]


def peer_chords(mix: np.ndarray) -> list[dict[str, Any]]:
    """Plain template matcher: CQT chroma per 0.5 s, best of 24 triads by cosine, no smoothing."""
    import librosa

    y = librosa.resample(mix.mean(axis=0), orig_sr=44100, target_sr=22050)
    chroma = librosa.feature.chroma_cqt(y=y, sr=22050, hop_length=512)
    step = int(0.5 * 22050 / 512)
    names = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
    tmpl, labels = [], []
    for q, tones in (("maj", (0, 4, 7)), ("min", (0, 3, 7))):
        for r in range(12):
            t = np.zeros(12)
            t[[(r + k) % 12 for k in tones]] = 1
            tmpl.append(t / np.linalg.norm(t))
            labels.append(f"{names[r]}:{q}")
    out = []
    for i in range(0, chroma.shape[1], step):
        c = chroma[:, i : i + step].mean(axis=1)
        k = int(np.argmax(np.array(tmpl) @ (c / (np.linalg.norm(c) + 1e-9))))
        out.append({"start": i * 512 / 22050, "end": min(i + step, chroma.shape[1]) * 512 / 22050, "label": labels[k]})
    return out


def fmt(rows: list[dict[str, float]], key: str) -> str:
    vals = [r[key] for r in rows if key in r]
    return f"{np.mean(vals):.3f}" if vals else "-"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", choices=sorted(SPLITS), default="evaluation")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "riffroom-bench" / "analysis")
    ap.add_argument("--long", action="store_true", help="also time one 240 s song")
    ap.add_argument("--verbose", action="store_true", help="one line per song")
    a = ap.parse_args()
    rows: dict[str, list[dict[str, float]]] = {k: [] for k in ("stems", "mixture", "peers")}
    tempo_rows: list[float] = []
    speed: list[tuple[float, float]] = []
    for name, seed, n, secs, sf2, tempo in SPLITS[a.split]:
        for song in render(a.cache, name, seed, n, secs, sf2, tempo):
            meta = json.loads((song / "meta.json").read_text())
            mix = load(song, "mixture")
            stems = {s: load(song, s) for s in STEM_NAMES}
            t0 = time.perf_counter()
            res = analyze(mix, stems, 44100).to_json()
            speed.append((time.perf_counter() - t0, mix.shape[1] / 44100))
            alone = analyze(mix, None, 44100).to_json()
            s1 = score(meta, res["beats"], res["downbeats"], res["chords"], res["key"] or "")
            s2 = score(meta, alone["beats"], alone["downbeats"], alone["chords"], alone["key"] or "")
            s3 = score(meta, peer_beats(mix), [], peer_chords(mix), None)
            rows["stems"].append(s1)
            rows["mixture"].append(s2)
            rows["peers"].append(s3)
            if tempo:
                tempo_rows.append(s1["beat_f"])
            if a.verbose:
                print(
                    f"{name}/{song.name}: true {meta['tempo']} {meta['time_signature']} {meta['key']} | "
                    f"est {res['bpm']} {res['time_signature']} {res['key']} | "
                    + " ".join(f"{k}={v:.2f}" for k, v in s1.items()),
                    flush=True,
                )
    if a.long:
        song = render(a.cache, "speed-240s", 301, 1, 240.0, FLUID, False)[0]
        mix, stems = load(song, "mixture"), {s: load(song, s) for s in STEM_NAMES}
        t0 = time.perf_counter()
        analyze(mix, stems, 44100)
        speed.append((time.perf_counter() - t0, mix.shape[1] / 44100))
    n_songs = len(rows["stems"])
    print(f"\nsplit: {a.split} ({n_songs} songs; corpus under {a.cache})")
    print("stems = the corpus's TRUE stems: this measures analysis, not separation.")
    print(f"{'method':<44} {'beat F':>7} {'downb F':>8} {'majmin':>7} {'7ths':>6} {'key':>6}")
    table = [
        ("riffroom.analysis, true stems", rows["stems"]),
        ("riffroom.analysis, mixture only", rows["mixture"]),
        ("peers: librosa beat_track / chroma templates", rows["peers"]),
    ]
    for label, r in table:
        print(
            f"{label:<44} {fmt(r, 'beat_f'):>7} {fmt(r, 'downbeat_f') if r is not rows['peers'] else '-':>8} "
            f"{fmt(r, 'majmin'):>7} {fmt(r, 'sevenths'):>6} {fmt(r, 'key'):>6}"
        )
    if tempo_rows:
        print(f"beat F on --tempo-changes songs (stems): {np.mean(tempo_rows):.3f} ({len(tempo_rows)} songs)")
    for sec, length in speed[-1:] if a.long else []:
        print(f"4-minute song: {sec:.2f} s ({sec / length:.3f}x its length)")
    short = speed[:n_songs]
    print(
        f"seconds per song (stems run): mean {np.mean([s for s, _ in short]):.2f} s for "
        f"{np.mean([x for _, x in short]):.0f} s songs ({np.mean([s / x for s, x in short]):.3f}x real time)"
    )
    print("goals on the evaluation split: beat F >= 0.95, downbeat F >= 0.90, majmin >= 0.85, key >= 0.90")


if __name__ == "__main__":
    main()
