"""HTDemucs with its network ahead-of-time compiled by TorchInductor for this CPU.

The STFT and iSTFT (complex tensors) stay in torch; the network between them, where the time
goes, is exported once (`torch.export`), compiled to a shared library (AOTInductor) and kept in a
package file keyed by the weights, torch version and CPU; its library is unpacked beside it once
and later processes load it in well under a second, called through its C ABI so that window
threads run it at once (aoti_runner.py). Inductor fuses the normalisations, GLUs and copies that eager torch runs one by
one: the same fp32 arithmetic (SNR about 130 dB against eager), about 1.3-1.4x less CPU time per
window (README, "Measured figures"). Building takes minutes, so no job waits for it unasked: the
engine uses a package that is already there and builds one on first use only with
RIFFROOM_DEMUCS_COMPILE=build; `python -m riffroom.separation.engines.demucs_compiled htdemucs`
builds it ahead of time. Any failure to build or load falls back to the eager model.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .aoti_runner import ContainerRunner, extract_library

log = logging.getLogger(__name__)

COMPILE_ENV = "RIFFROOM_DEMUCS_COMPILE"  # "auto" (use a built package), "build" (build if missing), "0" (off)
MODES = ("auto", "build", "0")
FORMAT = 1  # bumped when the package layout or the core's code changes

Core = Callable[[Any, Any], tuple[Any, Any]]


def mode(device: str) -> str:
    """The compiled path's mode for `device`: CUDA keeps the eager model (same engine code path)."""
    value = os.environ.get(COMPILE_ENV, "auto") or "auto"
    if value not in MODES:
        raise ValueError(f"{COMPILE_ENV}={value!r}; choose one of {', '.join(MODES)}")
    return value if device == "cpu" else "0"


def _core_module(model: Any) -> Any:
    """The network between STFT and iSTFT: HTDemucs.forward's middle, (magnitude, mix) -> (x, xt)."""
    import torch
    from einops import rearrange

    class HTDemucsCore(torch.nn.Module):
        def __init__(self, m: Any) -> None:
            super().__init__()
            self.m = m

        def forward(self, x: Any, mix: Any) -> tuple[Any, Any]:
            m = self.m
            batch, _, freqs, frames = x.shape
            mean = x.mean(dim=(1, 2, 3), keepdim=True)
            std = x.std(dim=(1, 2, 3), keepdim=True)
            x = (x - mean) / (1e-5 + std)
            meant = mix.mean(dim=(1, 2), keepdim=True)
            stdt = mix.std(dim=(1, 2), keepdim=True)
            xt = (mix - meant) / (1e-5 + stdt)
            saved, saved_t, lengths, lengths_t = [], [], [], []
            for idx, encode in enumerate(m.encoder):
                lengths.append(x.shape[-1])
                inject = None
                if idx < len(m.tencoder):
                    lengths_t.append(xt.shape[-1])
                    tenc = m.tencoder[idx]
                    xt = tenc(xt)
                    if not tenc.empty:
                        saved_t.append(xt)
                    else:
                        inject = xt
                x = encode(x, inject)
                if idx == 0 and m.freq_emb is not None:
                    frs = torch.arange(x.shape[-2], device=x.device)
                    emb = m.freq_emb(frs).t()[None, :, :, None].expand_as(x)
                    x = x + m.freq_emb_scale * emb
                saved.append(x)
            if m.crosstransformer:
                if m.bottom_channels:
                    f = x.shape[2]
                    x = rearrange(m.channel_upsampler(rearrange(x, "b c f t-> b c (f t)")), "b c (f t)-> b c f t", f=f)
                    xt = m.channel_upsampler_t(xt)
                x, xt = m.crosstransformer(x, xt)
                if m.bottom_channels:
                    f = x.shape[2]
                    x = rearrange(
                        m.channel_downsampler(rearrange(x, "b c f t-> b c (f t)")), "b c (f t)-> b c f t", f=f
                    )
                    xt = m.channel_downsampler_t(xt)
            for idx, decode in enumerate(m.decoder):
                x, pre = decode(x, saved.pop(-1), lengths.pop(-1))
                offset = m.depth - len(m.tdecoder)
                if idx >= offset:
                    tdec = m.tdecoder[idx - offset]
                    length_t = lengths_t.pop(-1)
                    if tdec.empty:
                        xt, _ = tdec(pre[:, :, 0], None, length_t)
                    else:
                        xt, _ = tdec(xt, saved_t.pop(-1), length_t)
            sources = len(m.sources)
            x = x.view(batch, sources, -1, freqs, frames) * std[:, None] + mean[:, None]
            xt = xt.view(batch, sources, -1, mix.shape[-1]) * stdt[:, None] + meant[:, None]
            return x, xt

    return HTDemucsCore(model).eval()


def forward(model: Any, core: Core, mix: Any) -> Any:
    """HTDemucs.forward in eval mode, with `core` for the network: pad to the training segment,
    STFT, core, mask, iSTFT, add the time branch, trim."""
    import torch.nn.functional as F

    length = mix.shape[-1]
    training_length = int(model.segment * model.samplerate)
    if length < training_length:
        mix = F.pad(mix, (0, training_length - length))
    z = model._spec(mix)
    x, xt = core(model._magnitude(z).to(mix.device), mix)
    out = xt + model._ispec(model._mask(z, x), mix.shape[-1])
    return out[..., :length]


def without_network(model: Any) -> Any:
    """`model` without its layers and weights: what `forward` needs around a compiled core (the
    STFT, iSTFT and mask have no weights), for an engine whose cores are all compiled."""
    import copy

    shell = copy.copy(model)  # a new object; its __dict__ is a copy, so the model keeps its layers
    shell.__dict__.update(_modules={}, _parameters={}, _buffers={})
    return shell


def _key(model: Any, batch: int) -> str:
    import torch

    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    cpu = torch.backends.cpu.get_cpu_capability()
    digest.update(f"{FORMAT}|{torch.__version__}|{cpu}|{batch}|{model.segment}|{type(model).__name__}".encode())
    return digest.hexdigest()[:32]


def _build(model: Any, batch: int, path: Path) -> None:
    """Export and compile the core for [batch, 2, segment] windows; written under a temporary name."""
    import torch

    mix = torch.zeros(batch, 2, int(model.segment * model.samplerate))
    with torch.inference_mode():
        mag = model._magnitude(model._spec(mix))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".pt2")
    os.close(fd)
    try:
        with torch.no_grad():
            exported = torch.export.export(_core_module(model), (mag.clone(), mix))
        torch._inductor.aoti_compile_and_package(exported, package_path=tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def compiled_core(model: Any, directory: Path, *, build: bool, batch: int = 1, instances: int = 1) -> Core | None:
    """The compiled core for `model` from `directory` (built there first if `build`), serving up
    to `instances` window threads at once; None (eager) when the model is not an HTDemucs, no
    package is there, or compiling or loading fails here."""
    if type(model).__name__ != "HTDemucs" or not getattr(model, "use_train_segment", False):
        return None
    path = directory / f"htdemucs-core-{_key(model, batch)}.pt2"
    if not path.exists() and not build:
        return None
    try:
        if not path.exists():
            log.warning("compiling %s for this CPU once (minutes); cached in %s", type(model).__name__, directory)
            _build(model, batch, path)
        runner = ContainerRunner(extract_library(path), instances)
    except Exception:  # inductor can fail in many ways (no compiler, odd CPU): eager still works
        log.exception("compiling or loading the demucs network failed; running it eagerly")
        return None

    def run(magnitude: Any, mix: Any) -> tuple[Any, Any]:
        x, xt = runner(magnitude, mix)
        return x, xt

    return run


def main(argv: list[str] | None = None) -> int:
    """Build the compiled network of a model ahead of time (what RIFFROOM_DEMUCS_COMPILE=auto uses)."""
    import argparse
    import time

    from ...config import get_settings
    from . import models

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("model", nargs="?", default="htdemucs")
    args = parser.parse_args(argv)
    settings = get_settings()
    loaded = models.load(args.model, settings.model_dir)
    started = time.monotonic()
    members = list(getattr(loaded, "models", [loaded]))
    built = [compiled_core(m, settings.data_dir / "compiled", build=True) is not None for m in members]
    print(f"{args.model}: {sum(built)} of {len(built)} networks compiled in {time.monotonic() - started:.0f} s")
    return 0 if all(built) else 1


if __name__ == "__main__":
    raise SystemExit(main())
