"""The ffmpeg sandbox: resource limits, no network, nothing but its input visible, killed on timeout."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import psutil
import pytest
from riffroom.audio import sandbox
from riffroom.config import Settings

SH = "/usr/bin/sh" if Path("/usr/bin/sh").exists() else "/bin/sh"


def _settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(data_dir=tmp_path, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["rlimit", "auto"])
def test_limits_apply_to_the_tool(mode: str, tmp_path: Path) -> None:
    settings = _settings(
        tmp_path,
        sandbox=mode,
        sandbox_cpu_seconds=7,
        sandbox_memory_bytes=512 * 1024**2,
        sandbox_file_bytes=3 * 1024**2,
    )
    out = sandbox.run([SH, "-c", "ulimit -t; ulimit -v; ulimit -f; ulimit -c"], settings, timeout=20)
    assert out.returncode == 0, out.stderr
    cpu, mem_kb, file_blocks, core = out.stdout.decode().split()
    assert (int(cpu), int(mem_kb) * 1024, int(file_blocks) * 512, int(core)) == (7, 512 * 1024**2, 3 * 1024**2, 0)


def test_bubblewrap_hides_files_and_network(tmp_path: Path) -> None:
    if not sandbox.bwrap_usable():
        pytest.skip("bubblewrap is not installed or cannot create namespaces here")
    settings = _settings(tmp_path)
    visible = tmp_path / "input.bin"
    visible.write_bytes(b"x")
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")

    def sh(script: str) -> str:
        return sandbox.run([SH, "-c", script], settings, read=[visible], timeout=20).stdout.decode()

    assert sh(f"cat {visible}") == "x"
    assert sh(f"cat {secret} 2>&1 || true") != "top secret"
    assert "root:" not in sh("cat /etc/passwd 2>&1 || true")
    devices = [line.split(":")[0].strip() for line in sh("cat /proc/net/dev").splitlines()[2:]]
    assert devices == ["lo"]  # a network namespace of its own: no way out


def test_a_hanging_tool_is_killed_with_everything_it_started(tmp_path: Path) -> None:
    marker = "31.4159"
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        sandbox.run([SH, "-c", f"sleep {marker} & sleep {marker}"], _settings(tmp_path), timeout=1)
    assert time.monotonic() - started < 10
    time.sleep(0.5)
    left = [p for p in psutil.process_iter(["cmdline"]) if marker in " ".join(p.info["cmdline"] or [])]
    assert left == []


def test_cpu_limit_stops_a_spinning_tool(tmp_path: Path) -> None:
    settings = _settings(tmp_path, sandbox="rlimit", sandbox_cpu_seconds=1)
    started = time.monotonic()
    out = sandbox.run([SH, "-c", "while :; do :; done"], settings, timeout=30)
    assert out.returncode != 0 and time.monotonic() - started < 15
