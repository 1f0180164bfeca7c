"""The Demucs v4 engine: real models through the `demucs` package, loaded once per process."""

from __future__ import annotations

import contextlib
import os
import threading
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import numpy as np

from ... import allocator
from ..engine import SAMPLE_RATE, MixStats
from . import demucs_compiled, models
from .window_threads import THREADS_ENV, WindowThreads, window_threads_for

_loaded: dict[tuple[str, str | None, str], Any] = {}
_lock = threading.Lock()

# bf16 is lossy (about 49 dB SNR against fp32 on a random htdemucs) and opt-in through the
# constructor only: the cache key does not carry the precision, so no setting may switch it on.
PRECISIONS = ("fp32", "bf16")


def _apply_threads(threads: int) -> None:
    """Intra-op threads for this process (the worker layout decides: see bench_worker_layout.py)."""
    if threads < 0:
        raise ValueError(f"torch threads must be >= 0, not {threads}")
    if threads:
        import torch

        torch.set_num_threads(threads)


def _default_compiled_dir() -> Path:
    from ...config import get_settings

    return get_settings().data_dir / "compiled"


def _cached_model(name: str, model_dir: Path | None, device: str) -> Any:
    """One model object per (name, dir, device) per process: loading is the slow part."""
    key = (name, str(model_dir) if model_dir else None, device)
    with _lock:
        if key not in _loaded:
            model = models.load(name, model_dir)
            _loaded[key] = model.to(device)
        return _loaded[key]


def _forget_model(name: str, model_dir: Path | None, device: str) -> None:
    """Drop the cache's reference (an engine that runs compiled keeps no weights of its own)."""
    with _lock:
        _loaded.pop((name, str(model_dir) if model_dir else None, device), None)


class DemucsEngine:
    """Runs each window through the model (or every model of a bag) and weights them as demucs does."""

    name = "demucs"
    overlap = 0.25
    normalize_input = True
    # Windows the runner hands over at once. On CPU with the default threads they run side by side,
    # one single-thread forward pass per core: no per-operator thread barriers, which cost most
    # on a busy machine. The compiled network is called with the GIL released (aoti_runner.py);
    # torch's own runner held it, so compiled windows took turns on one core. Stacking windows
    # into one batched pass was slower here (14 % more CPU per window), so a batch of windows is
    # only stacked where no window threads are used.
    batch_windows = 1
    # Side by side, each window is its own call: the short last one can go beside a whole one.
    mixed_lengths = False

    def __init__(
        self,
        model: str = "htdemucs",
        *,
        model_dir: Path | None = None,
        device: str = "cpu",
        threads: int | None = None,
        precision: str = "fp32",
        compiled_dir: Path | None = None,
    ) -> None:
        import torch

        self._torch = torch
        self.device = device
        if precision not in PRECISIONS:
            raise ValueError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
        self.precision = precision
        self.model = model if precision == "fp32" else f"{model}+{precision}"
        threads = threads if threads is not None else int(os.environ.get(THREADS_ENV, "0") or 0)
        _apply_threads(threads)
        self._threads = WindowThreads(torch, window_threads_for(threads) if device == "cpu" else 1, "demucs-window")
        if self._threads.pool is not None:
            self.batch_windows = self._threads.size
            self.mixed_lengths = True
        loaded = _cached_model(model, model_dir, device)
        self._members, self._weights = self._unbag(loaded)
        self.sources = tuple(loaded.sources)
        first = self._members[0]
        if first.samplerate != SAMPLE_RATE:
            raise ValueError(f"{model} runs at {first.samplerate} Hz; RiffRoom decodes at {SAMPLE_RATE} Hz")
        segments = {float(m.segment) for m in self._members}
        if len(segments) != 1:
            raise ValueError(f"{model}: members with different segments are not supported")
        self.segment_frames = int(SAMPLE_RATE * segments.pop())
        self._cores: list[demucs_compiled.Core | None] = [None] * len(self._members)
        compile_mode = demucs_compiled.mode(device)
        if precision == "fp32" and compile_mode != "0":
            directory = compiled_dir or _default_compiled_dir()
            build = compile_mode == "build"
            instances = self._threads.size  # one per window thread
            self._cores = [
                demucs_compiled.compiled_core(m, directory, build=build, instances=instances) for m in self._members
            ]
        if all(core is not None for core in self._cores):
            # The containers hold the weights; the eager copy (168 MB for htdemucs) would only
            # raise the peak. The windows still need the STFT around the core, which has none.
            self._members = [demucs_compiled.without_network(m) for m in self._members]
            del loaded
            _forget_model(model, model_dir, device)
            allocator.purge()  # jemalloc would keep those pages, and the windows' blocks rarely fit them

    @staticmethod
    def _unbag(model: Any) -> tuple[list[Any], np.ndarray]:
        from demucs.apply import BagOfModels

        if isinstance(model, BagOfModels):
            return list(model.models), np.asarray(model.weights, dtype=np.float32)
        return [model], np.ones((1, len(model.sources)), dtype=np.float32)

    def padded_length(self, chunk_frames: int) -> int:
        member = self._members[0]
        return int(member.valid_length(chunk_frames)) if hasattr(member, "valid_length") else chunk_frames

    def use_cores(self, cores: int) -> None:
        """The cores this job may use until it asks again (jobs beside it share the host's): that
        many windows side by side, a lone window on that many threads. No effect without window
        threads (threads set by the operator, or CUDA)."""
        if self._threads.pool is None:
            return
        self._threads.use(cores)
        self.batch_windows = self._threads.share

    def separate_window(self, window: np.ndarray, stats: MixStats | None) -> np.ndarray:
        return self.separate_windows([window], stats)[0]

    def separate_windows(self, windows: list[np.ndarray], stats: MixStats | None) -> list[np.ndarray]:
        """Equal-length windows: side by side on one thread each, or stacked into one batch (the
        model normalises each window alone, so either way each output is that window's own)."""
        if self._threads.pool is not None and len(windows) > 1:
            return self._threads.side_by_side(lambda w: self._forward(w[None])[0], windows)
        with self._threads.lone():
            return list(self._forward(np.stack(windows)))

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        """[B, 2, T] -> [B, S, 2, T]: every member of the bag, weighted as demucs weights them."""
        torch = self._torch
        mix = torch.from_numpy(batch).to(self.device)
        length = mix.shape[-1]
        total = None
        with torch.inference_mode(), self._precision_context():
            for member, core, weights in zip(self._members, self._cores, self._weights, strict=True):
                if core is not None and mix.shape[0] == 1:  # compiled for one window at a time
                    out = demucs_compiled.forward(member, core, mix)
                else:
                    out = member(mix).float()
                if out.shape[-1] != length:  # demucs's center_trim
                    delta = out.shape[-1] - length
                    out = out[..., delta // 2 : delta // 2 + length]
                out = out * torch.from_numpy(weights)[:, None, None].to(out.device)
                total = out if total is None else total + out
        assert total is not None
        mean = total / torch.from_numpy(self._weights.sum(axis=0))[:, None, None].to(total.device)
        result: np.ndarray = mean.cpu().numpy()
        return result

    def _precision_context(self) -> AbstractContextManager[object]:
        """fp32 runs the model as it is; bf16 autocasts matmuls and convolutions (lossy, opt-in)."""
        if self.precision == "fp32":
            return contextlib.nullcontext()
        device_type = "cuda" if self.device.startswith("cuda") else "cpu"
        return self._torch.autocast(device_type, dtype=self._torch.bfloat16)
