"""The server's first-start download of the default model's weights, in the background.

`riffroom serve` (and so `make run`) should reach studio quality without a manual step where the
HuggingFace hub is reachable, and start at once where it is not. So the download runs on a
thread: no request waits on it, separations meanwhile run on whatever `auto` resolves to without
the weights (Spleeter + dsp, or dsp), and the workers, which resolve `auto` per job, pick the
weights up for the next job once the last file is in the cache. The status (idle, downloading
with a fraction, done, failed, never) is what `GET /api/models` shows the web app.

Weights go into the HuggingFace cache only: a RIFFROOM_MODEL_DIR belongs to the operator, and
nothing is downloaded into it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from typing import Literal

from riffroom.config import Settings
from riffroom.separation.engines import choose, hub_fetch, models

log = logging.getLogger("riffroom.models")
FetchState = Literal["idle", "downloading", "done", "failed", "never"]
ENGINE_LABELS = {"demucs": "Demucs", "spleeter": "Spleeter + dsp", "dsp": "the dsp engine"}


@dataclass(frozen=True)
class FetchStatus:
    state: FetchState
    model: str
    fraction: float  # of the model's bytes; 1.0 once done
    message: str  # one sentence for people: what runs now, and how to get more
    auto_engine: str  # what `auto` runs on this node now: "demucs" | "spleeter" | "dsp"


def how_to_add(model: str) -> str:
    return (
        f"add weights later with `riffroom models fetch {model}` on a machine with internet access, "
        "or copy them into a folder and set RIFFROOM_MODEL_DIR"
    )


class ModelFetch:
    """One per server process: `start()` decides (and maybe downloads on a thread); `status()` reads."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.model = settings.default_model
        self._lock = threading.Lock()
        self._status = FetchStatus("idle", self.model, 0.0, "not started", self.auto_engine())
        self._logged_tenth = -1

    def auto_engine(self) -> str:
        try:
            return choose("auto", self.model, self.settings.model_dir).engine
        except Exception:  # a default model that is not a demucs name: the job will say why
            return "dsp"

    def status(self) -> FetchStatus:
        with self._lock:
            return replace(self._status, auto_engine=self.auto_engine())

    def _set(self, state: FetchState, fraction: float, message: str) -> None:
        with self._lock:
            self._status = FetchStatus(state, self.model, fraction, message, self._status.auto_engine)

    def start(self) -> None:
        model, model_dir = self.model, self.settings.model_dir
        running = ENGINE_LABELS[self.auto_engine()]
        if models.weights_present(model, model_dir):
            self._set("done", 1.0, f"weights for {model} are present: separations run Demucs")
            return
        if self.settings.fetch_models == "never":
            why = "model download is off (RIFFROOM_FETCH_MODELS=never)"
        elif model_dir is not None:
            why = f"RIFFROOM_MODEL_DIR ({model_dir}) has no {model} weights, and nothing is downloaded into it"
        elif not hub_fetch.downloadable(model):
            why = f"{model} is not a model on the hub"
        else:
            self._set("downloading", 0.0, f"downloading {model} weights; separations meanwhile run {running}")
            log.info("downloading %s weights in the background; separations meanwhile run %s", model, running)
            threading.Thread(target=self._download, name="riffroom-model-fetch", daemon=True).start()
            return
        message = f"{why}: separations run {running}; {how_to_add(model)}"
        self._set("never", 0.0, message)
        log.info("%s", message)

    def _download(self) -> None:
        try:
            hub_fetch.download(self.model, self._progress)
        except Exception as exc:
            message = f"{exc}: separations run {ENGINE_LABELS[self.auto_engine()]}; {how_to_add(self.model)}"
            self._set("failed", 0.0, message)
            log.warning("%s", message)
            return
        self._set("done", 1.0, f"{self.model} weights downloaded: the next separation runs Demucs")
        log.info("%s weights downloaded: the next separation runs Demucs", self.model)

    def _progress(self, fraction: float) -> None:
        running = ENGINE_LABELS[self.auto_engine()]
        self._set("downloading", fraction, f"downloading {self.model} weights; separations meanwhile run {running}")
        tenth = int(fraction * 10)
        if tenth != self._logged_tenth and tenth < 10:
            self._logged_tenth = tenth
            log.info("downloading %s weights: %d %%", self.model, tenth * 10)
