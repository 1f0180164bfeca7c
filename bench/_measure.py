"""Shared bits of the benchmarks: timing a command with its own peak RSS, and making test songs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "packages" / "backend"))  # tests.fixtures.songs

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402
from tests.fixtures.songs import synth_song  # noqa: E402

VENV_BIN = Path(sys.executable).parent


def run_measured(cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> tuple[float, int]:
    """Run `cmd`; return (wall seconds, peak RSS in bytes of that process and its waited-for children)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}): {err[-2000:]}")
    return seconds, usage.ru_maxrss * 1024


def song_of(minutes: float, path: Path) -> Path:
    """A song `minutes` long: a 30 s synthetic song looped, written block by block (PCM 16)."""
    if path.exists():
        return path
    block = synth_song(30.0, seed=11).mixture
    frames = int(minutes * 60 * 44100)
    with sf.SoundFile(path, "w", 44100, 2, subtype="PCM_16") as f:
        written = 0
        while written < frames:
            part = block[: frames - written]
            f.write(part)
            written += len(part)
    return path


def random_model_dir(path: Path) -> Path:
    """A model directory holding an untrained htdemucs of the published shape (same speed and memory)."""
    if not (path / "htdemucs.yaml").exists():
        from riffroom.separation.engines.model_dir import random_htdemucs, save_model

        save_model(random_htdemucs(), "htdemucs", path)
    return path


def riffroom_env(work: Path, model_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RIFFROOM_")}
    env.update(
        RIFFROOM_DATA_DIR=str(work / "data"),
        RIFFROOM_CACHE_DIR=str(work / "cache"),
        RIFFROOM_MODEL_DIR=str(model_dir),
        HF_HUB_OFFLINE="1",
    )
    return env


def run_in_temp_dir(prefix: str, body) -> None:
    """Run `body(root)` in a fresh temporary folder that is removed afterwards, whatever happens."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        body(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def gb(n: int) -> str:
    return f"{n / 1024**3:.2f} GB"


__all__ = ["ROOT", "VENV_BIN", "gb", "np", "random_model_dir", "riffroom_env", "run_measured", "song_of"]
