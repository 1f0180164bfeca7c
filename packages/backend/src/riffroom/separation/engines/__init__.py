"""Engine requests and selection.

`engine_request` checks a request's names only (the API does this: it may have no weights);
`choose` resolves `auto` where the job runs, best evidence first: demucs when its weights are
there; else Spleeter's bundled networks for the vocals with the dsp engine on the rest (on
MUSDB18 Spleeter's vocals score about 6.5 dB, weight-free methods about 2.3 dB); the dsp engine
alone only when the spleeter package is missing (or when asked for by name).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ...errors import ModelUnavailableError
from ..engine import Engine
from . import models

ENGINES = ("auto", "demucs", "dsp", "spleeter")
DSP_STEMS = ("drums", "bass", "other", "vocals")
DSP_MODEL = "dsp-v6"  # = DspEngine.model, bumped when its output changes (it keys the cache)

_instances: dict[tuple[str, str, str | None, str], Engine] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class EngineChoice:
    engine: str  # "demucs" | "dsp" | "spleeter"
    model: str  # model name (DSP_MODEL for dsp; "2stems-v1" or "4stems-v1+dsp-v6" for spleeter)
    reason: str  # said to the user: why this engine ran

    @property
    def stems(self) -> tuple[str, ...]:
        if self.engine == "spleeter":
            return models.SPLEETER_MODELS[models.spleeter_model(self.model)].stems
        return DSP_STEMS if self.engine == "dsp" else models.MODELS[self.model].stems


@dataclass(frozen=True)
class EngineRequest:
    """A separation as asked, names checked and nothing resolved: `auto` stays `auto`."""

    engine: str  # "auto" | "demucs" | "spleeter" | "dsp"
    model: str  # the model asked for (DSP_MODEL for the dsp engine)
    stems: list[str] | None  # sorted, no repeats; None = every stem


def _check_names(engine: str, model: str) -> None:
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if engine == "spleeter":
        models.spleeter_model(model)  # raises on a name that is neither spleeter's nor demucs's
    elif engine != "dsp" and model not in models.MODELS:
        raise ValueError(f"unknown model {model!r}; choose one of {', '.join(models.MODELS)}")


def engine_request(engine: str, model: str, stems: Sequence[str] | None = None) -> EngineRequest:
    """Check names only, never weights: where the job runs decides what `auto` becomes.

    Stems are checked against the model asked for; an `auto` request that falls back to dsp on
    a worker without weights fails there when it asks for a stem dsp does not make."""
    _check_names(engine, model)
    if engine == "spleeter":
        model = models.spleeter_model(model)
        offered = models.SPLEETER_MODELS[model].stems
    else:
        model = DSP_MODEL if engine == "dsp" else model
        offered = DSP_STEMS if engine == "dsp" else models.MODELS[model].stems
    wanted = sorted(set(stems)) if stems else None
    unknown = [s for s in wanted or [] if s not in offered]
    if unknown:
        raise ValueError(f"{engine} {model} has no {', '.join(unknown)} stem; it has {', '.join(offered)}")
    return EngineRequest(engine, model, wanted)


def choose(engine: str, model: str, model_dir: Path | None) -> EngineChoice:
    """Resolve `auto` with the weights in `model_dir` and check that the request can run here."""
    _check_names(engine, model)
    if engine == "dsp":
        return EngineChoice("dsp", DSP_MODEL, "dsp engine requested")
    if engine == "spleeter":
        return spleeter_choice(model, "spleeter engine requested")
    present = models.weights_present(model, model_dir)
    if engine == "demucs":
        if not present:
            raise ModelUnavailableError(models._how_to_get(model, model_dir))
        return EngineChoice("demucs", model, f"demucs {model} requested")
    if present:
        return EngineChoice("demucs", model, f"auto: weights for {model} are present, using demucs")
    if models.spleeter_installed():
        return spleeter_choice(
            models.SPLEETER_DEFAULT,
            f"auto: no weights for {model}, using Spleeter + dsp (run `riffroom models fetch {model}` "
            "for studio quality)",
        )
    return EngineChoice(
        "dsp",
        DSP_MODEL,
        f"auto: no weights for {model} and no {models.SPLEETER_PACKAGE} package ({models.SPLEETER_INSTALL}), "
        "using the weight-free dsp engine",
    )


def spleeter_choice(model: str, reason: str) -> EngineChoice:
    """Spleeter's 2 or 4 stems, if its package is installed; the model id carries our version
    (and the dsp engine's for 4 stems), so a change in either makes new cache entries."""
    if not models.spleeter_installed():
        raise ModelUnavailableError(
            f"the spleeter engine needs the {models.SPLEETER_PACKAGE} package: {models.SPLEETER_INSTALL}"
        )
    from .spleeter import model_id

    stems = len(models.SPLEETER_MODELS[models.spleeter_model(model)].stems)
    return EngineChoice("spleeter", model_id(stems), reason)


def get_engine(choice: EngineChoice, *, model_dir: Path | None, device: str, dsp_chunk_seconds: float) -> Engine:
    """One engine object per process and configuration: models load once, never per request."""
    key = (choice.engine, choice.model, str(model_dir) if model_dir else None, device)
    with _lock:
        engine = _instances.get(key)
        if engine is None:
            if choice.engine == "dsp":
                from .dsp import DspEngine

                engine = DspEngine(chunk_seconds=dsp_chunk_seconds)
            elif choice.engine == "spleeter":
                from .spleeter import SpleeterEngine

                engine = SpleeterEngine(len(choice.stems), device=device)
            else:
                from .demucs_engine import DemucsEngine

                engine = DemucsEngine(choice.model, model_dir=model_dir, device=device)
            _instances[key] = engine
        return engine
