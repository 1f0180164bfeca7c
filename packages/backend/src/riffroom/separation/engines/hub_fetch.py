"""Downloading a Demucs model's files from the HuggingFace hub into its cache, with byte progress.

Only huggingface_hub runs here (no torch, no demucs): the bag's yaml first, then one safetensors
file per model in it. hf_hub_download writes each file under a temporary name and links it into
the cache's snapshot only when it is complete, so `models.weights_present` turns true only once
every file is there: a worker never loads half a model. `HF_ENDPOINT` chooses the hub.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from ...errors import ModelUnavailableError
from . import models

CONNECT_TIMEOUT_SECONDS = 5.0  # per metadata request: an unreachable hub is given up on quickly


def downloadable(name: str) -> bool:
    return name in models.MODELS and name != "demucs_unittest"


def download(name: str, progress: Callable[[float], None] | None = None) -> None:
    """Fetch `name` into the HuggingFace cache; `progress(fraction)` as bytes arrive.

    Raises ModelUnavailableError (saying why) when the hub cannot be reached or lacks the model."""
    if not downloadable(name):
        known = ", ".join(m for m in models.MODELS if downloadable(m))
        raise ModelUnavailableError(f"unknown model {name!r}; known: {known}")
    report = progress or (lambda _fraction: None)
    try:
        _download(name, report)
    except ModelUnavailableError:
        raise
    except Exception as exc:  # httpx, huggingface_hub and OS errors come in many types
        raise ModelUnavailableError(f"could not download {name} ({type(exc).__name__}: {str(exc)[:200]})") from exc


def _download(name: str, report: Callable[[float], None]) -> None:
    from huggingface_hub import get_hf_file_metadata, hf_hub_download, hf_hub_url

    repo = models._hf_repo(name)
    # One request without retries first: hf_hub_download retries a refused connection with
    # backoff for about 25 s, while an unreachable hub should be given up on at once.
    get_hf_file_metadata(hf_hub_url(repo, f"{name}.yaml"), timeout=CONNECT_TIMEOUT_SECONDS)
    bag = Path(hf_hub_download(repo, f"{name}.yaml", etag_timeout=CONNECT_TIMEOUT_SECONDS))
    sigs = (yaml.safe_load(bag.read_text()) or {}).get("models") or []
    if not sigs:
        raise ModelUnavailableError(f"{repo}/{name}.yaml names no models")
    files = [f"{sig}.safetensors" for sig in sigs]
    sizes = [get_hf_file_metadata(hf_hub_url(repo, f), timeout=CONNECT_TIMEOUT_SECONDS).size or 0 for f in files]
    total = max(sum(sizes), 1)
    done = 0
    report(0.0)
    for filename, size in zip(files, sizes, strict=True):
        hf_hub_download(
            repo, filename, etag_timeout=CONNECT_TIMEOUT_SECONDS, tqdm_class=_progress_class(done, total, report)
        )
        done += size
        report(done / total)


def _progress_class(base: int, total: int, report: Callable[[float], None]) -> Any:
    """A stand-in for huggingface_hub's tqdm bar that reports the fraction of all files instead
    of drawing (`base` bytes of earlier files are already there)."""

    def on_bytes(n: int) -> None:
        report(min(base + n, total) / total)

    class Counter:
        def __init__(self, *args: Any, initial: int = 0, **kwargs: Any) -> None:
            self.n = initial
            on_bytes(self.n)

        def __enter__(self) -> Counter:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def update(self, n: int | float = 1) -> None:
            self.n += int(n)
            on_bytes(self.n)

        def close(self) -> None:
            return None

    return Counter
