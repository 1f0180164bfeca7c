"""Files derived from published stems: other formats, waveform peaks, custom mixes.

Each is computed once, keyed by the cache key, written under a temporary name and renamed.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import soundfile as sf

# one lock per derived file while somebody is making it: [lock, holders]; the entry goes when the last
# holder leaves, so a long-running server does not keep a lock for every file it ever derived
_locks: dict[str, list[Any]] = {}
_locks_guard = threading.Lock()


@contextmanager
def _lock_for(path: Path) -> Iterator[None]:
    key = str(path)
    with _locks_guard:
        entry = _locks.setdefault(key, [threading.Lock(), 0])
        entry[1] += 1
    try:
        with entry[0]:
            yield
    finally:
        with _locks_guard:
            entry[1] -= 1
            if entry[1] == 0:
                del _locks[key]


def _make_once(dst: Path, make: Callable[[], object]) -> Path:
    """`dst`, made by `make` (which writes it atomically) unless it exists; one maker per file at a time."""
    if dst.is_file():
        return dst
    with _lock_for(dst):
        if not dst.is_file():
            dst.parent.mkdir(parents=True, exist_ok=True)
            make()
    return dst


def transcoded(derived_dir: Path, key: str, stem: str, src: Path, fmt: str) -> Path:
    """`src` (the cached WAV) in `fmt`, transcoded on first request."""
    if fmt == "wav":
        return src
    from riffroom.audio.encode import transcode

    dst = derived_dir / key / f"{stem}.{fmt}"
    return _make_once(dst, lambda: transcode(src, dst, fmt))


def compute_peaks(src: Path, points: int) -> dict[str, Any]:
    """Min/max over `points` equal windows of a stem, read block by block."""
    with sf.SoundFile(src) as f:
        frames, rate = f.frames, f.samplerate
        per = max(1, math.ceil(frames / points))
        mins: list[float] = []
        maxs: list[float] = []
        block_points = max(1, (1 << 20) // per)
        while True:
            data = f.read(per * block_points, dtype="float32", always_2d=True)
            if not len(data):
                break
            n = len(data) // per
            if n:
                body = data[: n * per].reshape(n, per * data.shape[1])
                mins.extend(body.min(axis=1).tolist())
                maxs.extend(body.max(axis=1).tolist())
            if len(data) % per:
                tail = data[n * per :]
                mins.append(float(tail.min()))
                maxs.append(float(tail.max()))
    return {
        "points": len(mins),
        "duration": frames / rate if rate else 0.0,
        "min": [round(v, 4) for v in mins],
        "max": [round(v, 4) for v in maxs],
    }


def peaks(derived_dir: Path, key: str, stem: str, src: Path, points: int) -> dict[str, Any]:
    dst = derived_dir / key / f"{stem}.peaks-{points}.json"
    if not dst.is_file():
        with _lock_for(dst):
            if not dst.is_file():
                data = compute_peaks(src, points)
                _write_atomic(dst, json.dumps(data).encode())
    result: dict[str, Any] = json.loads(dst.read_bytes())
    return {"stem": stem, **result}


def mix(
    derived_dir: Path,
    key: str,
    stems: dict[str, Path],
    gains_db: dict[str, float | None],
    fmt: str,
    keep: int = 4,
) -> Path:
    """A mix of the stems with gains in dB (None mutes a stem).

    Every gain setting is a file as long as the song, so only the `keep` most recently used mixes of
    a song stay on disk: a user trying twenty settings must not fill the disk until the stems go.
    """
    from riffroom.audio.encode import mix_to

    linear = {
        name: 0.0 if gains_db.get(name, 0.0) is None else float(10 ** ((gains_db.get(name) or 0.0) / 20))
        for name in stems
    }
    tag = hashlib.sha256(json.dumps(sorted(linear.items())).encode()).hexdigest()[:16]
    dst = derived_dir / key / f"mix-{tag}.{fmt}"
    _make_once(dst, lambda: mix_to(dst, stems, linear, fmt))
    os.utime(dst)  # "last used" for the pruning below
    _prune_mixes(dst.parent, keep, spare=dst)
    return dst


MIX_GRACE_SECONDS = 60.0  # a mix used this recently may still be on its way to a client


def _prune_mixes(directory: Path, keep: int, spare: Path) -> None:
    """Delete all but the `keep` newest mixes of one song; never `spare` (the one being served) nor
    one used in the last MIX_GRACE_SECONDS (another request may be about to serve it)."""
    found = []
    for path in directory.glob("mix-*"):
        try:
            found.append((path.stat().st_mtime, path))
        except FileNotFoundError:  # pruned by a concurrent request
            continue
    found.sort(reverse=True)
    recent = time.time() - MIX_GRACE_SECONDS
    for used, path in found[max(1, keep) :]:
        if path != spare and used < recent:
            path.unlink(missing_ok=True)  # a download already streaming keeps its open file


def _write_atomic(dst: Path, data: bytes) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.part")
    tmp.write_bytes(data)
    os.replace(tmp, dst)


__all__ = ["compute_peaks", "mix", "peaks", "transcoded"]
