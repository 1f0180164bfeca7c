"""Running ffmpeg/ffprobe on untrusted files: no network, limited resources, killed on timeout.

With bubblewrap (`bwrap`, Debian package `bubblewrap`) the tool runs in fresh namespaces (no
network, its own PIDs, no capabilities) that see only /usr, the loader's files and the paths
it was given, read-only. Without it, or with `RIFFROOM_SANDBOX=rlimit`, it still runs under
the resource limits below. Either way: CPU seconds (RLIMIT_CPU), address space (RLIMIT_AS),
largest file written (RLIMIT_FSIZE), no core dumps, its own process group killed as one, and it
dies with its parent.

    result = sandbox.run([ffprobe, ..., f"file:{path}"], settings, read=[path], timeout=30)
    proc = sandbox.popen([ffmpeg, ...], settings, read=[path], stdout=subprocess.PIPE)
    sandbox.kill(proc)
"""

from __future__ import annotations

import ctypes
import os
import resource
import shutil
import signal
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import RiffRoomError

_ENV = {"PATH": "/usr/bin:/bin", "LC_ALL": "C", "MALLOC_ARENA_MAX": "2"}
_bwrap_ok: bool | None = None
try:  # resolved now: the child between fork and exec must not load libraries
    _prctl: Any = ctypes.CDLL("libc.so.6", use_errno=True).prctl
except OSError:
    _prctl = None


def _limits(settings: Settings) -> Callable[[], None]:
    cpu, mem, fsize = settings.sandbox_cpu_seconds, settings.sandbox_memory_bytes, settings.sandbox_file_bytes

    def apply() -> None:  # runs in the child between fork and exec: no locks, no logging
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if _prctl is not None:
            _prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: die with the (waiting) thread that started it

    return apply


def _bwrap_args(read: Sequence[Path], write: Sequence[Path], tool: str) -> list[str]:
    args = ["bwrap", "--ro-bind", "/usr", "/usr"]
    for name in ("lib", "lib64", "lib32", "bin", "sbin"):
        top = Path("/") / name
        if top.is_symlink():
            args += ["--symlink", os.readlink(top), str(top)]
        elif top.is_dir():
            args += ["--ro-bind", str(top), str(top)]
    for etc in ("/etc/alternatives", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d"):
        args += ["--ro-bind-try", etc, etc]
    args += [
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--tmpfs",
        "/tmp",
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--chdir",
        "/",
    ]
    tool_dir = str(Path(tool).resolve().parent)
    if not tool_dir.startswith("/usr/"):
        args += ["--ro-bind", tool_dir, tool_dir]
    for path in read:
        p = str(Path(path).resolve())
        args += ["--ro-bind", p, p]
    for path in write:
        p = str(Path(path).resolve())
        args += ["--bind", p, p]
    return [*args, "--"]


def bwrap_usable() -> bool:
    """Whether bubblewrap exists and can make namespaces here (checked once per process)."""
    global _bwrap_ok
    if _bwrap_ok is None:
        _bwrap_ok = False
        true = shutil.which("true")
        if shutil.which("bwrap") and true:
            try:
                probe = subprocess.run(
                    [*_bwrap_args([], [], true), true], capture_output=True, timeout=10, stdin=subprocess.DEVNULL
                )
                _bwrap_ok = probe.returncode == 0
            except (OSError, subprocess.TimeoutExpired):
                _bwrap_ok = False
    return _bwrap_ok


def mode(settings: Settings) -> str:
    """ "bwrap" or "rlimit": what `popen` will use with these settings."""
    if settings.sandbox == "rlimit":
        return "rlimit"
    if bwrap_usable():
        return "bwrap"
    if settings.sandbox == "bwrap":
        raise RiffRoomError(
            "RIFFROOM_SANDBOX=bwrap but bubblewrap is missing or cannot create namespaces here "
            "(Debian: apt-get install bubblewrap), or set RIFFROOM_SANDBOX=rlimit"
        )
    return "rlimit"


def popen(
    cmd: list[str], settings: Settings, *, read: Sequence[Path] = (), write: Sequence[Path] = (), **kw: Any
) -> subprocess.Popen[bytes]:
    """Start `cmd` sandboxed. `read`/`write`: the only files and folders it may see (bwrap mode)."""
    argv = [*_bwrap_args(read, write, cmd[0]), *cmd] if mode(settings) == "bwrap" else cmd
    kw.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.Popen(argv, env=_ENV, start_new_session=True, preexec_fn=_limits(settings), **kw)


def kill(proc: subprocess.Popen[bytes]) -> None:
    """Kill the tool and everything it started, and reap it."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            proc.kill()
    proc.wait()


def run(
    cmd: list[str], settings: Settings, *, timeout: float, read: Sequence[Path] = (), write: Sequence[Path] = ()
) -> subprocess.CompletedProcess[bytes]:
    """Run to completion, capturing output; on timeout kill it all and raise TimeoutExpired."""
    proc = popen(cmd, settings, read=read, write=write, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill(proc)
        proc.communicate()
        raise
    finally:
        if proc.poll() is None:
            kill(proc)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)
