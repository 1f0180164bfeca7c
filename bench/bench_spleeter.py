#!/usr/bin/env python3
"""Speed of the spleeter engine (2 stems, and 4 with the dsp engine on the accompaniment) beside the
dsp engine, measured in the same run on one 30 s corpus song.

usage: bench_spleeter.py [--cache DIR] [--device cpu|cuda] [--seed K] [--real FILE ...]

Renders (or reuses) the song with shared/corpus/make_corpus.py (`shared/` is the folder beside the
repository root, or RIFFROOM_SHARED_DIR). Times the chunked runner over the decoded mixture in
memory: separation only, no decoding or writing; the networks are loaded (and timed) before. Also
prints each engine's vocals SDR on that song (plain SNR, whole signal) as a sanity check, not as a
quality figure: one song says little.

--real FILE...: real recordings (any format ffmpeg reads; e.g. Debian's hyperrogue-music and
drascula-music, instrumental game music) through spleeter+dsp and dsp: the stems' largest
deviation from the mixture, and the share of the mixture's energy each engine calls vocals. No
reference stems exist for these, so this shows plausibility (an instrumental track should get
little "vocals"), not quality.
"""

from __future__ import annotations

import argparse
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

from riffroom.separation.engine import Engine, MixStats  # noqa: E402  (after the path set-up)
from riffroom.separation.engines.dsp import DspEngine  # noqa: E402
from riffroom.separation.runner import run_chunked  # noqa: E402

SECONDS = 30.0
SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"


class Mixture:
    """The song in memory, read the way the runner reads a decoded file."""

    def __init__(self, data: np.ndarray) -> None:
        self.data = data
        mono = data.mean(axis=0)
        self.stats = MixStats(float(mono.mean()), float(mono.std()), float(np.abs(mono).max()), data.shape[1])

    def read(self, start: int, count: int) -> np.ndarray:
        out = np.zeros((2, count), dtype=np.float32)
        lo, hi = max(start, 0), min(start + count, self.data.shape[1])
        if hi > lo:
            out[:, lo - start : hi - start] = self.data[:, lo:hi]
        return out


def shared_dir() -> Path:
    env = os.environ.get("RIFFROOM_SHARED_DIR")
    return Path(env) if env else REPO.parent / "shared"


def corpus_song(cache: Path, seed: int) -> Path:
    out = cache / f"spleeter-s{seed}"
    songs = sorted(p.parent for p in out.glob("song*/meta.json"))
    if not songs:
        if not Path(SOUNDFONT).is_file():
            sys.exit(f"error: soundfont {SOUNDFONT} missing (Debian: apt-get install fluid-soundfont-gm)")
        cmd = [sys.executable, str(shared_dir() / "corpus" / "make_corpus.py"), str(out), "--songs", "1"]
        cmd += ["--seconds", str(SECONDS), "--seed", str(seed), "--jobs", "2"]
        print(f"rendering {out}", flush=True)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        songs = sorted(p.parent for p in out.glob("song*/meta.json"))
    return songs[0]


def load(song: Path, name: str) -> np.ndarray:
    x, _ = sf.read(song / f"{name}.wav", dtype="float32", always_2d=True)
    return np.ascontiguousarray(x.T)


def timed(engine: Engine, mixture: Mixture) -> tuple[float, np.ndarray]:
    blocks: list[np.ndarray] = []
    started = time.perf_counter()
    run_chunked(engine, mixture, blocks.append)
    return time.perf_counter() - started, np.concatenate(blocks, axis=-1)


def snr(ref: np.ndarray, est: np.ndarray) -> float:
    ref64, est64 = ref.astype(np.float64), est.astype(np.float64)
    return float(10 * np.log10(np.sum(ref64**2) / max(np.sum((ref64 - est64) ** 2), 1e-12)))


def decode(path: Path) -> np.ndarray:
    """[2, n] float32 at 44.1 kHz, through ffmpeg."""
    raw = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-f", "f32le", "-ac", "2", "-ar", "44100", "-"],
        check=True,
        capture_output=True,
    ).stdout
    return np.ascontiguousarray(np.frombuffer(raw, dtype=np.float32).reshape(-1, 2).T)


def real_recordings(files: list[Path], device: str) -> None:
    from riffroom.separation.engines.spleeter import SpleeterEngine

    engines: list[tuple[str, Engine]] = [("spleeter+dsp 4", SpleeterEngine(4, device=device)), ("dsp", DspEngine())]
    print(f"{'file':<28} {'seconds':>7} {'engine':<15} {'max |sum - mix|':>15} {'vocals energy':>13}")
    for path in files:
        data = decode(path)
        for label, engine in engines:
            _, out = timed(engine, Mixture(data))
            n = min(out.shape[-1], data.shape[1])
            error = float(np.abs(out[..., :n].sum(axis=0) - data[:, :n]).max())
            vocals = out[list(engine.sources).index("vocals"), :, :n].astype(np.float64)
            share = float(np.sum(vocals**2) / max(np.sum(data[:, :n].astype(np.float64) ** 2), 1e-12))
            print(f"{path.name[:28]:<28} {data.shape[1] / 44100:7.1f} {label:<15} {error:15.2e} {100 * share:12.1f}%")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "riffroom-bench" / "spleeter")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--seed", type=int, default=401)
    ap.add_argument("--real", type=Path, nargs="+", help="real recordings instead of the corpus song")
    a = ap.parse_args()
    if a.real:
        real_recordings(a.real, a.device)
        return
    song = corpus_song(a.cache, a.seed)
    data, vocals = load(song, "mixture"), load(song, "vocals")
    mixture = Mixture(data)
    seconds = data.shape[1] / 44100

    from riffroom.separation.engines.spleeter import SpleeterEngine

    started = time.perf_counter()
    two = SpleeterEngine(2, device=a.device)
    loaded = time.perf_counter() - started
    four = SpleeterEngine(4, device=a.device)
    engines: list[tuple[str, Engine]] = [("dsp", DspEngine()), ("spleeter 2 stems", two), ("spleeter+dsp 4", four)]
    print(f"song: {song} ({seconds:.1f} s); spleeter networks loaded in {loaded:.2f} s; device {a.device}")
    results = []
    for label, engine in engines:
        wall, out = timed(engine, mixture)
        v = out[list(engine.sources).index("vocals")]
        results.append((label, wall, snr(vocals, v)))
    dsp_wall = results[0][1]
    print(f"{'engine':<18} {'seconds':>8} {'x real time':>12} {'vs dsp':>8} {'vocals SNR':>11}")
    for label, wall, vocal_snr in results:
        print(f"{label:<18} {wall:8.2f} {seconds / wall:11.1f}x {dsp_wall / wall:7.2f}x {vocal_snr:9.2f} dB")


if __name__ == "__main__":
    main()
