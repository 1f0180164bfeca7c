"""MKL's matrix kernels chosen by what the CPU can do, not by who made it.

PyTorch's x86 wheels carry Intel MKL for fp32 matrix products (`addmm`, and the blocks inside
its CPU flash attention). MKL asks one internal function, `mkl_serv_intel_cpu_true`, whether
it runs on an Intel CPU, and on any other CPU it takes slower generic code paths: on this
project's AMD EPYC (AVX2) a single-thread sgemm ran at 75-79 GFLOP/s against 97-99 with the
answer "yes", the speed OpenBLAS reaches on the same core (README, "Demucs speed"). The
kernels it then runs are the AVX2/FMA ones the CPU reports (MKL still checks CPUID for every
instruction set); the result is the same fp32 arithmetic up to summation order.

libtorch exports that function, so a one-line library defining it, preloaded like jemalloc
(preload.py), answers for it. It is built here with the C compiler the compiled network needs
anyway (a few milliseconds, once per machine) into the user's cache. Nothing is done on Intel
CPUs or without a compiler; `RIFFROOM_MKL_DISPATCH=vendor` leaves MKL's own choice.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

DISPATCH_ENV = "RIFFROOM_MKL_DISPATCH"  # "cpu-features" (the default) or "vendor" (MKL's own choice)
CHOICES = ("cpu-features", "vendor")
ASKED_SYMBOL = "riffroom_mkl_dispatch_asked"  # exported by the library: how often MKL asked it
SOURCE = f"""/* RiffRoom: let MKL pick its kernels by CPU features (riffroom/mkl_dispatch.py). */
static int asked;
int mkl_serv_intel_cpu_true(void) {{ __atomic_add_fetch(&asked, 1, __ATOMIC_RELAXED); return 1; }}
int {ASKED_SYMBOL}(void) {{ return __atomic_load_n(&asked, __ATOMIC_RELAXED); }}
"""


def choice(environ: Mapping[str, str] = os.environ) -> str:
    value = environ.get(DISPATCH_ENV, "cpu-features") or "cpu-features"
    if value not in CHOICES:
        raise ValueError(f"{DISPATCH_ENV}={value!r}; choose one of {', '.join(CHOICES)}")
    return value


def cpu_vendor() -> str:
    """The CPU's vendor string (`GenuineIntel`, `AuthenticAMD`, ...), '' where unknown."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            for line in info:
                if line.startswith("vendor_id"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def needed(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether MKL here would take its non-Intel paths and the operator has not asked for them."""
    machine = platform.machine().lower()
    return choice(environ) == "cpu-features" and machine in ("x86_64", "amd64") and cpu_vendor() != "GenuineIntel"


def cache_dir(environ: Mapping[str, str] = os.environ) -> Path:
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "riffroom"


def library(environ: Mapping[str, str] = os.environ) -> str | None:
    """The library's path, built first if this machine has none yet; None where it is not
    needed or cannot be built (no compiler, no writable cache): MKL then chooses as before."""
    if not needed(environ):
        return None
    digest = hashlib.sha256(SOURCE.encode()).hexdigest()[:12]
    path = cache_dir(environ) / f"libriffroom-mkl-dispatch-{digest}.so"
    if path.is_file():
        return str(path)
    search = environ.get("PATH", os.defpath)
    compiler = shutil.which(environ.get("CC") or "cc", path=search) or shutil.which("gcc", path=search)
    if compiler is None:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".mkl-dispatch.", suffix=".so")
        os.close(fd)
        try:
            command = [compiler, "-shared", "-fPIC", "-O2", "-x", "c", "-", "-o", tmp]
            subprocess.run(command, input=SOURCE.encode(), check=True, capture_output=True, timeout=60)
            os.replace(tmp, path)  # two processes building at once: the last rename wins, both whole
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except (OSError, subprocess.SubprocessError):
        return None
    return str(path)


def times_asked() -> int | None:
    """How often MKL in this process has asked the preloaded library; None where it is not loaded."""
    try:
        function = ctypes.CDLL(None)[ASKED_SYMBOL]
    except (AttributeError, OSError):
        return None
    function.restype = ctypes.c_int
    return int(function())


def loaded() -> bool:
    """Whether this process runs with the library preloaded."""
    return times_asked() is not None
