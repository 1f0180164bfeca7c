"""A small real filesystem to fill up: tmpfs when this process may mount, else an ext4 image on a
loop device (both need root, which the test machines and CI containers have).

    with small_disk(tmp_path / "disk", 32 * 2**20) as disk:
        with filled(disk, leave=256 * 1024):
            ...  # writes of more than 256 kB fail with ENOSPC
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


def _mount_tmpfs(path: Path, size: int) -> bool:
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    return done.returncode == 0


def _mount_loop(path: Path, size: int) -> Path | None:
    image = path.parent / f"{path.name}.img"
    with open(image, "wb") as fh:
        fh.truncate(size)
    made = subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], capture_output=True)
    if made.returncode != 0 or subprocess.run(["mount", "-o", "loop", str(image), str(path)]).returncode != 0:
        image.unlink(missing_ok=True)
        return None
    return image


@contextmanager
def small_disk(path: Path, size: int) -> Iterator[Path]:
    """A mounted filesystem of `size` bytes at `path`, unmounted afterwards."""
    path.mkdir(parents=True, exist_ok=True)
    image: Path | None = None
    if not _mount_tmpfs(path, size):
        image = _mount_loop(path, size)
        if image is None:
            raise RuntimeError(f"cannot mount a small filesystem at {path} (needs root or CAP_SYS_ADMIN)")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)
        if image is not None:
            image.unlink(missing_ok=True)


def free_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


_TOP_UP_SECONDS = 0.02


def _fill_to(fh: BinaryIO, disk: Path, leave: int) -> None:
    """Append zeros to `fh` until only `leave` bytes of `disk` are free (or nothing more fits)."""
    want = max(0, free_bytes(disk) - leave)
    block = b"\0" * (1 << 20)
    try:
        while want > 0:
            want -= fh.write(block[: min(len(block), want)])
        fh.flush()
        os.fsync(fh.fileno())
    except OSError:  # someone else wrote meanwhile: the disk is as full as it gets
        pass


@contextmanager
def filled(disk: Path, leave: int) -> Iterator[Path]:
    """Fill `disk` until only `leave` bytes are free, and keep it so: space the server frees
    meanwhile (an idle server cuts its SQLite WAL to zero bytes) is taken again within 20 ms, so
    an upload cannot slip into it. The space comes back on exit."""
    filler = disk / "filler.bin"
    stop = threading.Event()
    with open(filler, "wb") as fh:
        _fill_to(fh, disk, leave)

        def top_up() -> None:
            while not stop.wait(_TOP_UP_SECONDS):
                if free_bytes(disk) > leave:
                    _fill_to(fh, disk, leave)

        keeper = threading.Thread(target=top_up, name="disk-filler", daemon=True)
        keeper.start()
        try:
            yield filler
        finally:
            stop.set()
            keeper.join()
    filler.unlink(missing_ok=True)


def files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.exists() else []
