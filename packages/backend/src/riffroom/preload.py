"""The libraries a separating process starts with (LD_PRELOAD): jemalloc (allocator.py) and the
library that lets MKL choose its kernels by CPU features (mkl_dispatch.py).

Both must be there before the process starts: the supervisor starts its workers with them, and
the `separate` and `worker` commands start themselves again with them once, before anything heavy
is imported (launch.py).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

from . import allocator, mkl_dispatch

_MARKER = "RIFFROOM_PRELOADED"  # set on the re-started process: never start twice


def separating_env(environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` for a process that separates: jemalloc and the MKL library preloaded where they
    apply; each one preloaded once, an operator's own LD_PRELOAD kept after them."""
    env = allocator.with_jemalloc(environ)
    shim = mkl_dispatch.library(env)
    return env if shim is None else allocator.preloading(env, shim)


def restart_preloaded(argv: Sequence[str]) -> None:
    """Start this command again with its libraries preloaded (`python -m riffroom.launch ARGV`),
    once; returns when none is needed or possible (the command then runs as it is)."""
    if os.environ.get(_MARKER):
        return
    env = separating_env(os.environ)
    if env.get("LD_PRELOAD") == os.environ.get("LD_PRELOAD"):  # off, missing, or already there
        return
    env[_MARKER] = "1"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, "-m", "riffroom.launch", *argv], env)
