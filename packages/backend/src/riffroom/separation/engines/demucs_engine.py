"""The Demucs v4 engine: real models through the `demucs` package, loaded once per process."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from ..engine import SAMPLE_RATE, MixStats
from . import models

_loaded: dict[tuple[str, str | None, str], Any] = {}
_lock = threading.Lock()


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

    def __init__(self, model: str = "htdemucs", *, model_dir: Path | None = None, device: str = "cpu") -> None:
        import torch

        self._torch = torch
        self.model = model
        self.device = device
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

    @staticmethod
    def _unbag(model: Any) -> tuple[list[Any], np.ndarray]:
        from demucs.apply import BagOfModels

        if isinstance(model, BagOfModels):
            return list(model.models), np.asarray(model.weights, dtype=np.float32)
        return [model], np.ones((1, len(model.sources)), dtype=np.float32)

    def padded_length(self, chunk_frames: int) -> int:
        member = self._members[0]
        return int(member.valid_length(chunk_frames)) if hasattr(member, "valid_length") else chunk_frames

    def separate_window(self, window: np.ndarray, stats: MixStats) -> np.ndarray:
        torch = self._torch
        mix = torch.from_numpy(window)[None].to(self.device)
        total = None
        with torch.inference_mode():
            for member, weights in zip(self._members, self._weights, strict=True):
                out = member(mix)[0]  # [S, 2, T]
                length = out.shape[-1]
                if length != window.shape[-1]:  # demucs's center_trim
                    delta = length - window.shape[-1]
                    out = out[..., delta // 2 : delta // 2 + window.shape[-1]]
                out = out * torch.from_numpy(weights)[:, None, None].to(out.device)
                total = out if total is None else total + out
        assert total is not None
        mean = total / torch.from_numpy(self._weights.sum(axis=0))[:, None, None].to(total.device)
        result: np.ndarray = mean.cpu().numpy()
        return result
