"""Where the time of a demucs separation goes: one htdemucs forward pass under torch.profiler,
grouped by part of the network, then our job path around it (decode, normalisation, the engine,
overlap-add, writing stems, FLAC pre-render) on a short song.

Same random htdemucs of the published shape as bench_demucs_speed.py (an untrained model costs
exactly what the real one does). Usage: profile_demucs.py [--seconds 12] [--threads 0]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _measure import random_model_dir, song_of

COPY_OPS = {
    "aten::copy_",
    "aten::clone",
    "aten::cat",
    "aten::contiguous",
    "aten::constant_pad_nd",
    "aten::reflection_pad1d",
    "aten::reflection_pad2d",
    "aten::index",
    "aten::_unsafe_view",
}


def _labelled(fn: Callable[..., Any], label: str) -> Callable[..., Any]:
    import torch

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with torch.profiler.record_function(label):
            return fn(*args, **kwargs)

    return wrapped


def _label_modules(model: Any) -> dict[str, str]:
    """Wrap the parts of HTDemucs in record_function ranges; returns {label: what it is}."""
    parts = {
        "stft": ("_spec", "_magnitude"),
        "istft": ("_mask", "_ispec"),
    }
    for label, methods in parts.items():
        for name in methods:
            setattr(model, name, _labelled(getattr(model, name), label))
    groups = {
        "enc_freq": [*model.encoder],
        "enc_time": [*model.tencoder],
        "transformer": [
            model.crosstransformer,
            model.channel_upsampler,
            model.channel_downsampler,
            model.channel_upsampler_t,
            model.channel_downsampler_t,
        ],
        "dec_freq": [*model.decoder],
        "dec_time": [*model.tdecoder],
    }
    for label, modules in groups.items():
        for module in modules:
            module.forward = _labelled(module.forward, label)
    return {
        "stft": "STFT + magnitude (torch.stft)",
        "enc_freq": "frequency-branch encoder (Conv2d + DConv)",
        "enc_time": "time-branch encoder (Conv1d + DConv)",
        "transformer": "cross-domain transformer (+ 1x1 channel up/down)",
        "dec_freq": "frequency-branch decoder (ConvTranspose2d)",
        "dec_time": "time-branch decoder (ConvTranspose1d)",
        "istft": "mask + iSTFT (torch.istft)",
    }


def profile_forward(model: Any, segment_frames: int) -> None:
    import torch
    from torch.profiler import ProfilerActivity, profile

    names = _label_modules(model)
    mix = torch.randn(1, 2, segment_frames) * 0.1
    with torch.inference_mode():
        model(mix)  # warm-up: allocator, oneDNN primitive caches
        started = time.perf_counter()
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            model(mix)
        wall = time.perf_counter() - started
    events = {e.key: e for e in prof.key_averages()}
    total_us = sum(events[k].cpu_time_total for k in names if k in events)
    print(f"\none htdemucs forward pass, {segment_frames / 44100:.1f} s window: {wall:.2f} s wall (profiled)")
    print(f"{'part':<52}{'ms':>10}{'share':>8}")
    for key, what in names.items():
        us = events[key].cpu_time_total if key in events else 0.0
        print(f"{what:<52}{us / 1000:>10.0f}{us / total_us:>8.1%}")
    copies = sum(e.self_cpu_time_total for e in prof.key_averages() if e.key in COPY_OPS)
    print(f"{'  of all these: memory copies (copy_/cat/pad/clone)':<52}{copies / 1000:>10.0f}{copies / total_us:>8.1%}")
    print("\ntop operators by self time:")
    top = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)[:10]
    for e in top:
        print(f"  {e.key:<50}{e.self_cpu_time_total / 1000:>10.0f} ms{e.self_cpu_time_total / total_us:>8.1%}")


def profile_job_path(song: Path, model_dir: Path, work: Path) -> None:
    """The real library path (decode -> runner -> StemWriter) under cProfile, then FLAC pre-render."""
    from riffroom.audio.decode import decode
    from riffroom.audio.derived import transcoded
    from riffroom.audio.encode import StemWriter
    from riffroom.config import Settings
    from riffroom.separation.engines.demucs_engine import DemucsEngine
    from riffroom.separation.runner import run_chunked

    settings = Settings(data_dir=work / "data", cache_dir=work / "cache", model_dir=model_dir)
    engine = DemucsEngine("htdemucs", model_dir=model_dir)
    out = work / "profile-stems"
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    with decode(song, settings=settings, spool_dir=out) as audio:
        timings["decode (ffmpeg to float32 spool)"] = time.perf_counter() - started
        writers = [StemWriter(out / f"{s}.wav") for s in engine.sources]

        def sink(block: Any) -> None:
            for writer, stem in zip(writers, block, strict=True):
                writer.write(stem)

        run_started = time.perf_counter()
        run_chunked(engine, audio, sink)
        run_total = time.perf_counter() - run_started
        for writer in writers:
            writer.close()
    profiler.disable()
    stats = pstats.Stats(profiler)
    cumulative = {f"{Path(k[0]).name}:{k[2]}": v[3] for k, v in stats.stats.items()}  # type: ignore[attr-defined]

    def cum(*names: str) -> float:
        return sum(v for k, v in cumulative.items() if any(k.endswith(n) for n in names))

    timings["read windows from the spool"] = cum("decode.py:read")
    timings["normalisation (whole-song mean/std)"] = cum("runner.py:_normalized")
    timings["engine (forward passes)"] = cum("demucs_engine.py:separate_window", "demucs_engine.py:separate_windows")
    timings["writing stems (float WAV)"] = cum("encode.py:write")
    timings["overlap-add, crossfade, rest of runner"] = run_total - sum(
        timings[k]
        for k in (
            "read windows from the spool",
            "normalisation (whole-song mean/std)",
            "engine (forward passes)",
            "writing stems (float WAV)",
        )
    )
    flac_started = time.perf_counter()
    for stem in engine.sources:
        transcoded(work / "derived", "profile", stem, out / f"{stem}.wav", "flac")
    timings["FLAC pre-render (4 stems, after the run)"] = time.perf_counter() - flac_started
    total = sum(timings.values())
    seconds = sf_seconds(song)
    print(f"\njob path on a {seconds:.0f} s song ({total:.2f} s in all, {total / seconds:.2f} s per second of song)")
    print(f"{'stage':<46}{'s':>8}{'share':>8}")
    for name, value in timings.items():
        print(f"{name:<46}{value:>8.2f}{value / total:>8.1%}")


def sf_seconds(path: Path) -> float:
    import soundfile as sf

    return float(sf.info(path).duration)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=12.0, help="song length for the job path")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "riffroom-bench")
    args = parser.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    args.work.mkdir(parents=True, exist_ok=True)
    models = random_model_dir(args.work / "models")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.1f}")
    from riffroom.separation.engines import models as model_files

    model = model_files.load("htdemucs", models)
    model = model.models[0] if hasattr(model, "models") else model  # a bag of one
    profile_forward(model, int(44100 * float(model.segment)))
    song = song_of(args.seconds / 60, args.work / f"song-{args.seconds:.0f}s.wav")
    profile_job_path(song, models, args.work)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
