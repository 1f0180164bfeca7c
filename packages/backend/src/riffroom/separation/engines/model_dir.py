"""Writing Demucs models into a model directory (the `demucs --repo` layout RIFFROOM_MODEL_DIR uses).

Used to install fine-tuned or converted models, and by tests and benchmarks to exercise the real
loading path with a randomly initialised model when the published weights are out of reach.
"""

from __future__ import annotations

import hashlib
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

# The published htdemucs architecture (41.98 M parameters): class defaults plus these.
HTDEMUCS_KWARGS: dict[str, Any] = {"bottom_channels": 512, "segment": Fraction(39, 5), "dconv_mode": 3}


def random_htdemucs(
    sources: tuple[str, ...] = ("drums", "bass", "other", "vocals"), seed: int = 0, **overrides: Any
) -> Any:
    """An untrained HTDemucs of the published shape (speed and memory match the real one)."""
    import torch
    from demucs.htdemucs import HTDemucs

    torch.manual_seed(seed)
    return HTDemucs(sources=list(sources), **{**HTDEMUCS_KWARGS, **overrides})


def save_model(model: Any, name: str, directory: Path) -> Path:
    """Save `model` as `<sig>.th` plus `<name>.yaml` naming it, so `get_model(name, repo=directory)` loads it."""
    import torch
    from demucs.states import get_state

    directory.mkdir(parents=True, exist_ok=True)
    args, kwargs = model._init_args_kwargs
    package = {
        "klass": model.__class__,
        "args": args,
        "kwargs": kwargs,
        "state": get_state(model, None, half=False),  # type: ignore[no-untyped-call]  # demucs has no types
        "training_args": {},
    }
    sig = hashlib.sha256(name.encode()).hexdigest()[:8]
    path = directory / f"{sig}.th"
    torch.save(package, path)
    (directory / f"{name}.yaml").write_text(yaml.safe_dump({"models": [sig]}))
    return path
