"""The Demucs v4 engine: real models through the `demucs` package, loaded once per process."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import numpy as np

from ...config import WINDOW_THREADS_ENV
from ..engine import SAMPLE_RATE, MixStats
from . import demucs_compiled, models

_loaded: dict[tuple[str, str | None, str], Any] = {}
_lock = threading.Lock()

# bf16 is lossy (about 49 dB SNR against fp32 on a random htdemucs) and opt-in through the
# constructor only: the cache key does not carry the precision, so no setting may switch it on.
PRECISIONS = ("fp32", "bf16")
THREADS_ENV = "RIFFROOM_TORCH_THREADS"  # = Settings.torch_threads; 0 = torch's default (all cores)


def _apply_threads(threads: int) -> None:
    """Intra-op threads for this process (the worker layout decides: see bench_worker_layout.py)."""
    if threads < 0:
        raise ValueError(f"torch threads must be >= 0, not {threads}")
    if threads:
        import torch

        torch.set_num_threads(threads)


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


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
    # With window threads, the first call is one window on every thread (about 1.4x sooner done
    # than side by side): a job's first seconds are playable sooner, at the cost of one window's
    # pairing (under 1 % of a song's time).
    first_call_windows = 1

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
        self._pool: ThreadPoolExecutor | None = None
        window_threads = _cores() if threads == 0 else int(os.environ.get(WINDOW_THREADS_ENV, "1") or 1)
        if device == "cpu" and window_threads > 1:
            self.batch_windows = window_threads
            self._pool = ThreadPoolExecutor(window_threads, thread_name_prefix="demucs-window")
        self._window_threads = window_threads
        # Threads of a lone window (the first of a job, or every one while sharing the cores).
        self._lone_threads = window_threads if self._pool is not None else 0
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
            instances = self.batch_windows if self._pool is not None else 1  # one per window thread
            self._cores = [
                demucs_compiled.compiled_core(m, directory, build=build, instances=instances) for m in self._members
            ]

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
        if self._pool is None:
            return
        share = max(1, min(int(cores), self._window_threads))
        self.batch_windows = share
        self._lone_threads = share

    def separate_window(self, window: np.ndarray, stats: MixStats | None) -> np.ndarray:
        return self.separate_windows([window], stats)[0]

    def separate_windows(self, windows: list[np.ndarray], stats: MixStats | None) -> list[np.ndarray]:
        """Equal-length windows: side by side on one thread each, or stacked into one batch (the
        model normalises each window alone, so either way each output is that window's own)."""
        if self._pool is not None and len(windows) > 1:
            torch = self._torch
            before = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                return list(self._pool.map(self._single_threaded, windows))
            finally:
                torch.set_num_threads(before)
        with self._threads(self._lone_threads):
            return list(self._forward(np.stack(windows)))

    @contextlib.contextmanager
    def _threads(self, threads: int) -> Iterator[None]:
        """torch's threads for this call (0: as they are)."""
        torch = self._torch
        before = torch.get_num_threads()
        if not threads or threads == before:
            yield
            return
        torch.set_num_threads(threads)
        try:
            yield
        finally:
            torch.set_num_threads(before)

    def _single_threaded(self, window: np.ndarray) -> np.ndarray:
        self._torch.set_num_threads(1)  # OpenMP keeps the thread count per calling thread
        result: np.ndarray = self._forward(window[None])[0]
        return result

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
