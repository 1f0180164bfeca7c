"""Separating processes run on jemalloc, keeping freed pages for the next window and giving them
back after a job: real child processes, real /proc figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from riffroom import allocator, mkl_dispatch

from tests.separation.test_cli import _env


def test_jemalloc_is_installed_by_the_setup() -> None:
    """scripts/setup.sh installs libjemalloc2; without it every figure below falls back to glibc."""
    assert allocator.jemalloc_library() is not None, "run scripts/setup.sh (Debian package libjemalloc2)"


def test_the_environment_of_a_separating_child() -> None:
    base = {"PATH": os.environ["PATH"], "LD_PRELOAD": "libfoo.so"}
    env = allocator.with_jemalloc(base)
    assert env["LD_PRELOAD"].split() == [allocator.jemalloc_library(), "libfoo.so"]  # the operator's stays
    assert env["MALLOC_CONF"] == allocator.JEMALLOC_CONF
    assert allocator.with_jemalloc(env) == env, "never preloaded twice"
    own = allocator.with_jemalloc({"MALLOC_CONF": "narenas:2"})
    assert own["MALLOC_CONF"] == "narenas:2", "an operator's own configuration is kept"
    assert allocator.with_jemalloc({allocator.ALLOCATOR_ENV: "system"}) == {allocator.ALLOCATOR_ENV: "system"}
    with pytest.raises(ValueError, match="choose one of jemalloc, system"):
        allocator.with_jemalloc({allocator.ALLOCATOR_ENV: "tcmalloc"})


_KEEP_THEN_PURGE = """
import json, numpy as np
from riffroom import allocator
def rss():
    return int(next(l for l in open("/proc/self/status") if l.startswith("RssAnon")).split()[1]) // 1024
before = rss()
for _ in range(3):  # what a forward pass does: large blocks, freed, asked for again
    block = np.ones(64 << 20, dtype=np.uint8); del block
kept = rss()
purged = allocator.purge()
on = allocator.running_on_jemalloc()
print(json.dumps({"on": on, "before": before, "kept": kept, "after": rss(), "purged": purged}))
"""


def _child(env: dict[str, str]) -> dict:
    out = subprocess.run([sys.executable, "-c", _KEEP_THEN_PURGE], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_freed_blocks_are_kept_for_the_next_pass_and_purged_after_the_job() -> None:
    on = _child(allocator.with_jemalloc(dict(os.environ)))
    assert on["on"] and on["purged"]
    assert on["kept"] - on["before"] >= 60, "a freed 64 MB block stays for the next pass"
    assert on["kept"] - on["after"] >= 60, "and goes back to the kernel on purge"
    off = _child({**os.environ, allocator.ALLOCATOR_ENV: "system"})
    assert not off["on"] and not off["purged"]
    assert off["kept"] - off["before"] < 16, "glibc hands a block this large back at once (faulted in anew each time)"


def test_separate_restarts_itself_with_its_preloads_once(tmp_path: Path, song_wav: Path) -> None:
    def done(**extra: str) -> dict:
        cmd = [sys.executable, "-m", "riffroom.cli", "separate", str(song_wav), "-o", str(tmp_path / "out"), "--json"]
        env = _env(tmp_path, **extra)
        proc = subprocess.run([*cmd, "--engine", "dsp"], env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout.splitlines()[-1])

    first = done()
    assert first["allocator"] == "jemalloc"
    assert first["mkl_dispatch"] == ("preloaded" if mkl_dispatch.needed({}) else "none"), "mkl_dispatch.py"
    assert done(RIFFROOM_ALLOCATOR="system")["allocator"] == "system"
    assert done(RIFFROOM_MKL_DISPATCH="vendor")["mkl_dispatch"] == "none"
    cmd = [sys.executable, "-m", "riffroom.cli", "separate", str(song_wav), "-o", str(tmp_path / "out")]
    bad = subprocess.run(cmd, env=_env(tmp_path, RIFFROOM_ALLOCATOR="tcmalloc"), capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "RIFFROOM_ALLOCATOR='tcmalloc'; choose one of jemalloc, system" in bad.stderr
