"""Upload throughput and server RSS for a ~200 MB song, vs hashing + writing the same bytes locally.

Usage: bench_upload_throughput.py [--minutes 18.5]  (18.5 min of 16-bit stereo WAV is ~196 MB)
"""

from __future__ import annotations

import argparse
import hashlib
import threading
import time
from pathlib import Path

import psutil

# isort: off
import _measure  # (puts packages/backend on sys.path first)
from tests.api.harness import run_server
# isort: on


def local_peer(src: Path, dst: Path) -> float:
    """The least the server must do: read, hash and write the bytes (same disk), seconds."""
    started = time.perf_counter()
    digest = hashlib.sha256()
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while block := fin.read(1 << 16):
            digest.update(block)
            fout.write(block)
    return time.perf_counter() - started


def _main(root: Path) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=18.5)
    args = parser.parse_args()
    song = _measure.song_of(args.minutes, root / "big.wav")
    size = song.stat().st_size
    peer = local_peer(song, root / "copy.bin")
    (root / "copy.bin").unlink()
    with run_server(root / "srv", workers=1) as srv:
        proc = psutil.Process(srv.pid)
        base_rss = proc.memory_info().rss
        peak = [base_rss]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], proc.memory_info().rss)
                time.sleep(0.02)

        sampler = threading.Thread(target=sample)
        sampler.start()
        with srv.client(timeout=300) as c, open(song, "rb") as fh:
            started = time.perf_counter()
            r = c.post("/api/songs", files={"file": ("big.wav", fh, "audio/wav")})
            seconds = time.perf_counter() - started
        done.set()
        sampler.join()
        assert r.status_code == 201, r.text
    mb = size / 1e6
    print(f"upload: {mb:.0f} MB in {seconds:.2f} s = {mb / seconds:.0f} MB/s (includes sha256, fsync and ffprobe)")
    print(f"local peer (read + sha256 + write, same bytes): {mb / peer:.0f} MB/s")
    print(f"ratio upload/peer throughput: {peer / seconds:.2f}")
    print(
        f"server RSS: {base_rss / 1e6:.0f} MB idle, {peak[0] / 1e6:.0f} MB peak during upload "
        f"(+{(peak[0] - base_rss) / 1e6:.1f} MB = {(peak[0] - base_rss) / size:.3f} of the upload size)"
    )


def main() -> None:
    _measure.run_in_temp_dir("riffroom-bench-upload-", _main)


if __name__ == "__main__":
    main()
