"""MKL in a separating process chooses its kernels by CPU features: the preloaded library is
built once, MKL really asks it (real child processes, torch's own MKL), and the default demucs
paths run with it still compute the model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from riffroom import mkl_dispatch, preload
from riffroom.config import Settings
from riffroom.separation.engines import demucs_compiled, models

from tests.separation.test_demucs_exactness import MIN_SNR_DB, _reference, snr_db

BACKEND = Path(__file__).resolve().parents[2]
ON_THIS_CPU = mkl_dispatch.needed({})  # an x86 CPU not made by Intel: MKL would take its generic paths

_MATMUL = """
import json, numpy as np, torch
from riffroom import mkl_dispatch
torch.set_num_threads(1)
a = torch.from_numpy(np.load("a.npy")); b = torch.from_numpy(np.load("b.npy"))
np.save("product.npy", torch.addmm(torch.zeros(b.shape[1]), a, b).numpy())
print(json.dumps({"asked": mkl_dispatch.times_asked()}))
"""


def _child(script: str, env: dict[str, str], cwd: Path, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", script, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=900
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.splitlines()[-1])


def test_the_library_is_built_once_per_machine_and_only_where_mkl_needs_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path), "PATH": os.environ["PATH"]}
    monkeypatch.setattr(mkl_dispatch, "cpu_vendor", lambda: "AuthenticAMD")
    built = mkl_dispatch.library(env)
    assert built is not None and Path(built).parent == tmp_path / "riffroom"
    stamp = Path(built).stat().st_mtime_ns
    assert mkl_dispatch.library(env) == built and Path(built).stat().st_mtime_ns == stamp, "built once"
    assert [p.name for p in (tmp_path / "riffroom").iterdir()] == [Path(built).name], "no temporary file left"
    assert mkl_dispatch.library({**env, mkl_dispatch.DISPATCH_ENV: "vendor"}) is None
    assert mkl_dispatch.library({**env, "PATH": str(tmp_path / "no-compiler"), "CC": "no-such-cc"}) is not None
    with pytest.raises(ValueError, match="choose one of cpu-features, vendor"):
        mkl_dispatch.library({**env, mkl_dispatch.DISPATCH_ENV: "intel"})
    monkeypatch.setattr(mkl_dispatch, "cpu_vendor", lambda: "GenuineIntel")
    assert mkl_dispatch.library(env) is None, "on Intel CPUs MKL already takes its fast paths"


def test_without_a_compiler_nothing_is_preloaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mkl_dispatch, "cpu_vendor", lambda: "AuthenticAMD")
    env = {"XDG_CACHE_HOME": str(tmp_path), "PATH": str(tmp_path / "empty"), "CC": "no-such-cc"}
    assert mkl_dispatch.library(env) is None
    assert "libriffroom-mkl" not in preload.separating_env(env).get("LD_PRELOAD", "")


@pytest.mark.skipif(not ON_THIS_CPU, reason="an Intel CPU (or not x86): MKL needs no help here")
def test_mkl_asks_the_preloaded_library_and_multiplies_the_same(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    np.save(tmp_path / "a.npy", rng.standard_normal((300, 512), dtype=np.float32))
    np.save(tmp_path / "b.npy", rng.standard_normal((512, 200), dtype=np.float32))
    env = preload.separating_env(os.environ)
    assert mkl_dispatch.library(env) in env["LD_PRELOAD"].split()
    assert preload.separating_env(env) == env, "never preloaded twice"
    on = _child(_MATMUL, env, tmp_path)
    on_product = np.load(tmp_path / "product.npy")
    assert on["asked"] and on["asked"] >= 1, "MKL consulted the preloaded library"
    off = _child(_MATMUL, {**os.environ, mkl_dispatch.DISPATCH_ENV: "vendor"}, tmp_path)
    assert off["asked"] is None
    expected = np.load(tmp_path / "a.npy").astype(np.float64) @ np.load(tmp_path / "b.npy").astype(np.float64)
    np.testing.assert_allclose(on_product, expected, rtol=0, atol=1e-3)
    np.testing.assert_allclose(on_product, np.load(tmp_path / "product.npy"), rtol=0, atol=1e-3)


_SEPARATE = """
import json, sys
from pathlib import Path
import numpy as np
from riffroom import mkl_dispatch
from riffroom.config import Settings
from riffroom.separation.engines.demucs_engine import DemucsEngine
from tests.separation.test_demucs_exactness import _run
song, model_dir, work = (Path(a) for a in sys.argv[1:4])
settings = Settings(data_dir=work, cache_dir=work / "c", model_dir=model_dir)
engine = DemucsEngine("htdemucs", model_dir=model_dir, compiled_dir=work / "compiled")
np.save(work / "ours.npy", _run(engine, song, settings))
print(json.dumps({"asked": mkl_dispatch.times_asked(), "compiled": engine._cores[0] is not None}))
"""


@pytest.mark.parametrize(("size", "compile_mode"), [("published", "0"), ("small", "build")])
def test_the_default_paths_with_their_preloads_are_the_model(
    size: str, compile_mode: str, songs: dict[str, Path], model_dirs: dict[str, Path], tmp_path: Path
) -> None:
    """A separating process as the supervisor starts it (jemalloc, MKL's dispatch library),
    eager (the published shape) and compiled (built there): its output against apply_model run
    here, in a process that has neither."""
    song = songs["short"] if size == "published" else songs["long"]
    env = {**preload.separating_env(os.environ), demucs_compiled.COMPILE_ENV: compile_mode}
    ran = _child(_SEPARATE, env, BACKEND, str(song), str(model_dirs[size]), str(tmp_path))
    assert ran["compiled"] == (compile_mode == "build")
    assert (ran["asked"] is not None) == ON_THIS_CPU
    settings = Settings(data_dir=tmp_path, cache_dir=tmp_path / "c", model_dir=model_dirs[size])
    expected = _reference(models.load("htdemucs", model_dirs[size]), song, settings)
    assert snr_db(expected, np.load(tmp_path / "ours.npy")) >= MIN_SNR_DB
