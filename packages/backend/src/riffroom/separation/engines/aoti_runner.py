"""Runs an AOTInductor-compiled network through its C ABI, so windows really run side by side.

torch's own runners for a compiled package (`aoti_load_package`, `AOTIModelContainerRunnerCpu`)
hold the GIL for the whole call and keep one model instance: two window threads calling them
take turns, and the "side by side" layout used one core of two (measured: another Python thread
got no time slice during a call). The package's shared library exports
`AOTInductorModelContainerCreateWithDevice` / `AOTInductorModelContainerRun`; calling them
through ctypes releases the GIL for the call, and a container of N model instances (weights
shared, activations per instance) serves N threads at once. Same library, same kernels, same
output as torch's runner (max difference 0.0 on the published htdemucs).

The library keeps the network's weights in a read-only section and the container copies them
into its own buffer when it is created; the section's pages, read once for that copy, would
stay resident (about 160 MB for htdemucs, a second copy of the weights). They are handed back
to the kernel right after (`madvise(MADV_DONTNEED)` on read-only, non-executable mappings of the
library: nothing was written there, so a later read just loads the file's bytes again).
"""

from __future__ import annotations

import ctypes
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

_Handle = ctypes.c_void_p
_MADV_DONTNEED = 4
_SMALL_MAPPING = 1 << 20  # headers and symbol tables: not worth a system call


class CompiledLibraryError(RuntimeError):
    """The package has no loadable network library, or the library refused a call."""


def extract_library(package: Path) -> Path:
    """The network's shared library, unpacked once beside its package (`<package>.so`)."""
    target = package.with_suffix(".so")
    if target.exists():
        return target
    with zipfile.ZipFile(package) as archive:
        names = archive.namelist()
        if any("/weights/" in n or "/constants/" in n for n in names):
            raise CompiledLibraryError(f"{package.name} keeps its weights outside the library")
        libraries = [n for n in names if "/aotinductor/" in n and n.endswith(".so")]
        if len(libraries) != 1:
            raise CompiledLibraryError(f"{package.name} holds {len(libraries)} network libraries, not one")
        fd, tmp = tempfile.mkstemp(dir=package.parent, prefix=f".{package.stem}.", suffix=".so")
        try:
            with os.fdopen(fd, "wb") as out, archive.open(libraries[0]) as member:
                while chunk := member.read(1 << 20):
                    out.write(chunk)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return target


def read_only_mappings(library: Path) -> list[tuple[int, int]]:
    """(start, end) of this process's read-only, non-executable mappings of `library` (Linux)."""
    target = os.path.realpath(library)
    spans = []
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                fields = line.split(maxsplit=5)
                if len(fields) == 6 and fields[1].startswith("r--") and fields[5].strip() == target:
                    start, end = (int(x, 16) for x in fields[0].split("-"))
                    spans.append((start, end))
    except OSError:  # no /proc (not Linux): the pages just stay
        return []
    return spans


def release_read_only_pages(library: Path) -> int:
    """Give back the resident pages of `library`'s large read-only mappings; returns the bytes
    advised. Only read-only private file pages: dropping them loses nothing."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    released = 0
    for start, end in read_only_mappings(library):
        if end - start >= _SMALL_MAPPING and libc.madvise(start, end - start, _MADV_DONTNEED) == 0:
            released += end - start
    return released


def _capsule_api() -> Any:
    api = ctypes.pythonapi
    api.PyCapsule_GetPointer.restype = ctypes.c_void_p
    api.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
    api.PyCapsule_GetName.restype = ctypes.c_char_p
    api.PyCapsule_GetName.argtypes = [ctypes.py_object]
    api.PyCapsule_New.restype = ctypes.py_object
    api.PyCapsule_New.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
    return api


class ContainerRunner:
    """One compiled network with `instances` model instances: up to that many concurrent calls,
    each one on the calling thread's OpenMP thread count, the GIL released while it runs."""

    def __init__(self, library: Path, instances: int) -> None:
        import torch  # noqa: F401  (loads libtorch, whose shim functions the library calls)

        if instances < 1:
            raise ValueError(f"a container needs at least one model instance, not {instances}")
        self._lib = ctypes.CDLL(str(library))
        self._lib.AOTInductorModelContainerCreateWithDevice.argtypes = [
            ctypes.POINTER(_Handle),
            ctypes.c_size_t,
            ctypes.c_char_p,
            ctypes.c_char_p,
        ]
        self._lib.AOTInductorModelContainerRun.argtypes = [
            _Handle,
            ctypes.POINTER(_Handle),
            ctypes.c_size_t,
            ctypes.POINTER(_Handle),
            ctypes.c_size_t,
            _Handle,
            _Handle,
        ]
        self._lib.AOTInductorModelContainerGetNumOutputs.argtypes = [_Handle, ctypes.POINTER(ctypes.c_size_t)]
        self._lib.AOTInductorModelContainerDelete.argtypes = [_Handle]
        self._api = _capsule_api()
        self._container = _Handle()
        self._check(
            self._lib.AOTInductorModelContainerCreateWithDevice(ctypes.byref(self._container), instances, b"cpu", None),
            "create",
        )
        outputs = ctypes.c_size_t()
        self._check(self._lib.AOTInductorModelContainerGetNumOutputs(self._container, ctypes.byref(outputs)), "outputs")
        self._outputs = outputs.value
        release_read_only_pages(library)

    @staticmethod
    def _check(code: int, what: str) -> None:
        if code != 0:
            raise CompiledLibraryError(f"the compiled network failed ({what}, code {code})")

    def __call__(self, *inputs: Any) -> list[Any]:
        """Run the network on `inputs` (tensors, in the exported order); returns its outputs."""
        import torch

        api = self._api
        capsules = torch._C._aoti.unsafe_alloc_void_ptrs_from_tensors(list(inputs))
        handles = (_Handle * len(capsules))(*[api.PyCapsule_GetPointer(c, api.PyCapsule_GetName(c)) for c in capsules])
        results = (_Handle * self._outputs)()
        # The library takes ownership of the input handles and hands over the output handles.
        code = self._lib.AOTInductorModelContainerRun(
            self._container, handles, len(capsules), results, self._outputs, None, None
        )
        self._check(code, "run")
        owned = [api.PyCapsule_New(results[i], None, None) for i in range(self._outputs)]
        tensors: list[Any] = torch._C._aoti.alloc_tensors_by_stealing_from_void_ptrs(owned)
        return tensors

    def __del__(self) -> None:
        container = getattr(self, "_container", None)
        if container is not None and container.value:
            self._lib.AOTInductorModelContainerDelete(container)
            container.value = None
