"""Which malloc a separating process runs on: jemalloc, keeping what it frees, where it is installed.

A forward pass of htdemucs allocates and frees its activations (tensors of 10-130 MB) dozens of
times per window. glibc returns every block over 32 MB to the kernel at once (its mmap threshold
cannot go higher), so each pass faults the same memory in again, zeroed page by page: on a 2-core
machine 16 % of a separation's CPU time went to the kernel (README, "Demucs speed"). jemalloc
told never to decay keeps the freed pages for the next pass, as PyTorch's CPU tuning guide
advises; a worker purges them after each job, so an idle worker gives its memory back.

It must be loaded before the process starts (LD_PRELOAD, preload.py): the supervisor starts its
workers with it, and the `separate` and `worker` commands start themselves again with it once,
before anything heavy is imported (launch.py).
`RIFFROOM_ALLOCATOR=system` keeps glibc's malloc. Without the library nothing changes.
"""

from __future__ import annotations

import ctypes
import os
import sysconfig
from collections.abc import Mapping
from pathlib import Path

ALLOCATOR_ENV = "RIFFROOM_ALLOCATOR"  # "jemalloc" (the default where installed) or "system"
CHOICES = ("jemalloc", "system")
# Never decay dirty or muzzy pages (a worker purges after each job); one arena: the window
# threads allocate few, large blocks, and a second arena held ~100 MB more at the peak.
JEMALLOC_CONF = "dirty_decay_ms:-1,muzzy_decay_ms:-1,narenas:1"
_ARENAS_ALL = 4096  # jemalloc's MALLCTL_ARENAS_ALL
_LIBRARY = "libjemalloc.so.2"


def choice(environ: Mapping[str, str] = os.environ) -> str:
    value = environ.get(ALLOCATOR_ENV, "jemalloc") or "jemalloc"
    if value not in CHOICES:
        raise ValueError(f"{ALLOCATOR_ENV}={value!r}; choose one of {', '.join(CHOICES)}")
    return value


def jemalloc_library() -> str | None:
    """The installed jemalloc's path (Debian's libjemalloc2), or None. Looked up in the system's
    library folders directly: ctypes.util.find_library runs ldconfig, slower than a restart."""
    folders = [f"/usr/lib/{sysconfig.get_config_var('MULTIARCH') or ''}", "/usr/lib64", "/usr/lib", "/usr/local/lib"]
    for folder in folders:
        if (candidate := Path(folder) / _LIBRARY).is_file():
            return str(candidate)
    return None


def with_jemalloc(environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` for a separating child process: jemalloc preloaded and configured, unless it is
    switched off, missing, or already there. An operator's own MALLOC_CONF is kept."""
    env = dict(environ)
    library = jemalloc_library() if choice(env) == "jemalloc" else None
    if library is None or library in env.get("LD_PRELOAD", ""):
        return env
    env = preloading(env, library)
    env.setdefault("MALLOC_CONF", JEMALLOC_CONF)
    return env


def preloading(environ: Mapping[str, str], library: str) -> dict[str, str]:
    """`environ` with `library` first in LD_PRELOAD, once; an operator's own entries after it."""
    env = dict(environ)
    if library not in env.get("LD_PRELOAD", ""):
        env["LD_PRELOAD"] = " ".join(filter(None, [library, env.get("LD_PRELOAD", "")]))
    return env


def running_on_jemalloc() -> bool:
    """Whether this process's malloc is jemalloc (its `mallctl` is then in the global namespace)."""
    return _mallctl() is not None


def _mallctl() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    try:
        function = ctypes.CDLL(None).mallctl
    except AttributeError:
        return None
    function.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
    function.restype = ctypes.c_int
    return function


def purge() -> bool:
    """Hand the pages jemalloc keeps back to the kernel (after a job); False on glibc."""
    mallctl = _mallctl()
    if mallctl is None:
        return False
    return bool(mallctl(f"arena.{_ARENAS_ALL}.purge".encode(), None, None, None, 0) == 0)
