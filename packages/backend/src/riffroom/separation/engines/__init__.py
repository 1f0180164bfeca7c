"""Engine selection: `auto` picks demucs when its weights are here, else the weight-free dsp engine."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from ...errors import ModelUnavailableError
from ..engine import Engine
from . import models

ENGINES = ("auto", "demucs", "dsp")
DSP_STEMS = ("drums", "bass", "other", "vocals")
DSP_MODEL = "dsp-v6"  # = DspEngine.model, bumped when its output changes (it keys the cache)

_instances: dict[tuple[str, str, str | None, str], Engine] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class EngineChoice:
    engine: str  # "demucs" | "dsp"
    model: str  # model name ("dsp" for the dsp engine)
    reason: str  # said to the user: why this engine ran

    @property
    def stems(self) -> tuple[str, ...]:
        return DSP_STEMS if self.engine == "dsp" else models.MODELS[self.model].stems


def choose(engine: str, model: str, model_dir: Path | None) -> EngineChoice:
    """Resolve `auto` and check that the request can run at all."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if engine != "dsp" and model not in models.MODELS:
        raise ValueError(f"unknown model {model!r}; choose one of {', '.join(models.MODELS)}")
    if engine == "dsp":
        return EngineChoice("dsp", DSP_MODEL, "dsp engine requested")
    present = models.weights_present(model, model_dir)
    if engine == "demucs":
        if not present:
            raise ModelUnavailableError(models._how_to_get(model, model_dir))
        return EngineChoice("demucs", model, f"demucs {model} requested")
    if present:
        return EngineChoice("demucs", model, f"auto: weights for {model} are present, using demucs")
    return EngineChoice("dsp", DSP_MODEL, f"auto: no weights for {model}, using the weight-free dsp engine")


def get_engine(choice: EngineChoice, *, model_dir: Path | None, device: str, dsp_chunk_seconds: float) -> Engine:
    """One engine object per process and configuration: models load once, never per request."""
    key = (choice.engine, choice.model, str(model_dir) if model_dir else None, device)
    with _lock:
        engine = _instances.get(key)
        if engine is None:
            if choice.engine == "dsp":
                from .dsp import DspEngine

                engine = DspEngine(chunk_seconds=dsp_chunk_seconds)
            else:
                from .demucs_engine import DemucsEngine

                engine = DemucsEngine(choice.model, model_dir=model_dir, device=device)
            _instances[key] = engine
        return engine
