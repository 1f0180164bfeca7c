"""Writing stems: incremental float WAV for the cache, and transcoding to what users download."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile as sf

from ..errors import RiffRoomError
from .ffmpeg import PROTOCOL_ARGS, tool
from .format import CHANNELS, SAMPLE_RATE

FORMATS = ("wav", "flac", "mp3", "opus")
_FFMPEG_CODECS = {"mp3": ["-c:a", "libmp3lame", "-q:a", "2"], "opus": ["-c:a", "libopus", "-b:a", "160k"]}
_BLOCK_FRAMES = 262144


_DISK_FULL_MARGIN = 1 << 20  # libsndfile buffers: a failed write with less free than this was ENOSPC


class StemWriter:
    """Appends [2, n] float32 blocks to a float32 WAV file (the cache's canonical format).

    libsndfile reports a full disk only as "System error", without the errno, so a failed write
    or close is looked at again here: when the file's filesystem has no room left for what was
    being written, it is raised as OSError(ENOSPC), which errors.is_disk_full recognises."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._file = sf.SoundFile(
                path, mode="w", samplerate=SAMPLE_RATE, channels=CHANNELS, format="WAV", subtype="FLOAT"
            )
        except (sf.LibsndfileError, RuntimeError) as exc:
            self._raise_if_disk_full(exc, 0)
            raise

    def write(self, block: np.ndarray) -> None:
        data = np.ascontiguousarray(block.T, dtype=np.float32)
        try:
            self._file.write(data)
        except (sf.LibsndfileError, RuntimeError) as exc:
            self._raise_if_disk_full(exc, data.nbytes)
            raise

    def close(self) -> None:
        if not self._file.closed:
            try:
                self._file.flush()
                self._file.close()
            except (sf.LibsndfileError, RuntimeError) as exc:
                self._raise_if_disk_full(exc, 0)
                raise

    def _raise_if_disk_full(self, exc: BaseException, nbytes: int) -> None:
        try:
            st = os.statvfs(self.path.parent)
        except OSError:
            return
        if st.f_bavail * st.f_frsize < nbytes + _DISK_FULL_MARGIN:
            raise OSError(errno.ENOSPC, f"No space left on device while writing ({exc})", str(self.path)) from exc


def iter_blocks(path: Path, block_frames: int = _BLOCK_FRAMES) -> Iterator[np.ndarray]:
    """Yield [2, n] float32 blocks of a stem file without loading it whole."""
    with sf.SoundFile(path) as f:
        while True:
            data = f.read(block_frames, dtype="float32", always_2d=True)
            if not len(data):
                return
            yield data.T


def transcode(src_wav: Path, dst: Path, fmt: str) -> Path:
    """Write `src_wav` as `fmt` to `dst` (a temporary name first, renamed when complete)."""
    if fmt not in FORMATS:
        raise RiffRoomError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    tmp = dst.with_name(f".{dst.name}.part")
    try:
        if fmt == "wav":  # the cache already holds float WAV: a plain copy, nothing to re-encode
            shutil.copyfile(src_wav, tmp)
        elif fmt == "flac":
            _copy_blocks(src_wav, tmp, "FLAC", "PCM_24")
        else:
            cmd = [
                tool("ffmpeg"),
                "-nostdin",
                "-v",
                "error",
                "-y",
                *PROTOCOL_ARGS,
                "-i",
                f"file:{src_wav}",
                *_FFMPEG_CODECS[fmt],
                "-f",
                "mp3" if fmt == "mp3" else "ogg",
                f"file:{tmp}",
            ]
            result = subprocess.run(cmd, capture_output=True, stdin=subprocess.DEVNULL)
            if result.returncode != 0:
                raise RiffRoomError(f"encoding {fmt} failed: {result.stderr.decode(errors='replace')[-300:]}")
        tmp.replace(dst)
    finally:
        tmp.unlink(missing_ok=True)
    return dst


def _copy_blocks(src: Path, dst: Path, fmt: str, subtype: str) -> None:
    with sf.SoundFile(dst, mode="w", samplerate=SAMPLE_RATE, channels=CHANNELS, format=fmt, subtype=subtype) as out:
        for block in iter_blocks(src):
            if subtype.startswith("PCM"):
                block = np.clip(block, -1.0, 1.0)
            out.write(block.T)


def mix_to(dst: Path, stems: dict[str, Path], gains: dict[str, float], fmt: str) -> Path:
    """Sum stems with linear `gains` (stream by stream, bounded memory) and write as `fmt`."""
    tmp_wav = dst.with_name(f".{dst.name}.mix.wav")
    writer = StemWriter(tmp_wav)
    try:
        readers = {name: iter_blocks(path) for name, path in stems.items() if gains.get(name, 0.0) != 0.0}
        if not readers:  # everything muted: silence as long as the song
            first = next(iter(stems.values()))
            for shape_of in iter_blocks(first):
                writer.write(np.zeros_like(shape_of))
        while readers:
            total: np.ndarray | None = None
            for name in list(readers):
                block = next(readers[name], None)
                if block is None:
                    del readers[name]
                    continue
                scaled = block * np.float32(gains[name])
                total = scaled if total is None else total + scaled
            if total is not None:
                writer.write(total)
        writer.close()
        return transcode(tmp_wav, dst, fmt)
    finally:
        writer.close()
        tmp_wav.unlink(missing_ok=True)
