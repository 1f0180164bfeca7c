"""Fuzz at scale against a real `riffroom serve` (embedded, accounts on, one user logged in with
an API token): N mutated uploads, then a schemathesis run over /openapi.json.

    .venv/bin/python bench/fuzz.py                         # 10,000 uploads + 10 min schemathesis
    .venv/bin/python bench/fuzz.py --uploads 500 --minutes 1

Uploads are made from wav/mp3/flac/ogg seeds (ffmpeg): bit flips, truncations, one format's
header spliced onto another's body, random bytes, zero-length files, huge claimed sizes (RIFF,
data, FLAC block lengths), a few at once. Each must end 2xx, or 4xx with a code and a message;
never 5xx, never past the per-request timeout (a hang). Afterwards no ffmpeg, ffprobe or bwrap
process may be left and no temp file in the data dir. The exit status is 1 when any of that fails.
Loopback only, bounded in time.
"""

from __future__ import annotations

import argparse
import json
import random
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import _measure  # noqa: F401  (puts packages/backend on sys.path first)
import httpx
import psutil
from tests.api.accounts import add_user, login
from tests.api.harness import ServerProcess

FORMATS = ("wav", "mp3", "flac", "ogg")
HELPERS = ("ffmpeg", "ffprobe", "bwrap")


def make_seeds(directory: Path) -> dict[str, bytes]:
    """A short stereo tone in each format, made with ffmpeg."""
    seeds = {}
    for fmt in FORMATS:
        out = directory / f"seed.{fmt}"
        codec = {"ogg": ["-c:a", "libvorbis"], "mp3": ["-c:a", "libmp3lame"]}.get(fmt, [])
        subprocess.run(
            ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:duration=1.5",
             "-ac", "2", "-ar", "44100", *codec, str(out)],
            check=True,
            timeout=60,
        )  # fmt: skip
        seeds[fmt] = out.read_bytes()
    return seeds


def _flip_bits(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 64)):
        i = rng.randrange(len(out))
        out[i] ^= 1 << rng.randrange(8)
    return bytes(out)


def _huge_sizes(rng: random.Random, data: bytes, fmt: str) -> bytes:
    """Claim far more than is there: RIFF/data chunk sizes, a FLAC block length, random u32s."""
    out = bytearray(data)
    big = rng.choice([0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 2**31 + rng.randrange(2**31)])
    if fmt == "wav":
        struct.pack_into("<I", out, 4, big)
        at = out.find(b"data")
        if at >= 0:
            struct.pack_into("<I", out, at + 4, big)
    elif fmt == "flac" and len(out) > 8:
        out[5:8] = b"\xff\xff\xff"
    else:
        for _ in range(rng.randint(1, 4)):
            struct.pack_into(">I", out, rng.randrange(max(1, len(out) - 4)), big)
    return bytes(out)


def mutate(rng: random.Random, seeds: dict[str, bytes]) -> tuple[str, bytes]:
    """One fuzzed upload: (kind, bytes)."""
    fmt = rng.choice(FORMATS)
    data = seeds[fmt]
    kind = rng.choice(["flip", "flip", "truncate", "splice", "random", "empty", "huge", "header-only", "repeat"])
    if kind == "flip":
        return f"bit flips ({fmt})", _flip_bits(rng, data)
    if kind == "truncate":
        return f"truncated ({fmt})", data[: rng.randrange(len(data))]
    if kind == "splice":
        other = seeds[rng.choice([f for f in FORMATS if f != fmt])]
        cut = rng.randint(4, 512)
        return "spliced header", data[:cut] + other[rng.randrange(len(other) // 2) :]
    if kind == "random":
        return "random bytes", rng.randbytes(rng.choice([1, 16, 512, 4096, 65536, 400_000]))
    if kind == "empty":
        return "zero-length", b""
    if kind == "huge":
        return f"huge claimed size ({fmt})", _huge_sizes(rng, data, fmt)
    if kind == "header-only":
        return f"header only ({fmt})", data[: rng.randint(4, 128)]
    return f"repeated body ({fmt})", data + data[rng.randrange(len(data)) :] * rng.randint(1, 4)


def fuzz_uploads(
    srv: ServerProcess, token: str, count: int, concurrency: int, timeout: float, seed: int, minutes: float
) -> Counter[str]:
    """Send `count` mutated uploads, `concurrency` at once, none started after `minutes`; counts
    by outcome."""
    with tempfile.TemporaryDirectory() as tmp:
        seeds = make_seeds(Path(tmp))
    counts: Counter[str] = Counter()
    rng = random.Random(seed)
    deadline = time.time() + minutes * 60
    slots = threading.BoundedSemaphore(concurrency * 2)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=srv.base_url, timeout=timeout, headers=headers) as client:
        lock = threading.Lock()

        def bump(key: str) -> None:
            with lock:
                counts[key] += 1

        def send(case: tuple[str, bytes], n: int) -> None:
            kind, data = case
            name = f"fuzz{n}." + rng_name(n)
            try:
                r = client.post("/api/songs", files={"file": (name, data, "application/octet-stream")})
            except httpx.TimeoutException:
                bump("hang (no answer within the timeout)")
                print(f"HANG: upload {n} ({kind}, {len(data)} bytes)", flush=True)
                return
            except httpx.TransportError as exc:
                bump("connection error")
                print(f"connection error: upload {n} ({kind}): {exc!r}", flush=True)
                return
            bump("requests")
            bump(f"{r.status_code // 100}xx")
            if r.status_code >= 500:
                print(f"5xx: upload {n} ({kind}): {r.status_code} {r.text[:200]}", flush=True)
            elif r.status_code >= 400 and not _clear_error(r):
                bump("4xx without a code and message")
                print(f"unclear 4xx: upload {n} ({kind}): {r.status_code} {r.text[:200]}", flush=True)
            if r.status_code < 300:  # keep the user under the song quota; the server keeps working
                song_id = r.json().get("id")
                if song_id and client.delete(f"/api/songs/{song_id}").status_code >= 500:
                    bump("5xx")

        with ThreadPoolExecutor(concurrency) as pool:
            for n in range(count):
                if time.time() > deadline:
                    print(f"  stopped after {n} uploads: --upload-minutes {minutes:g} reached", flush=True)
                    break
                case = mutate(rng, seeds)
                slots.acquire()
                pool.submit(send, case, n).add_done_callback(lambda _f: slots.release())
                if n and n % 1000 == 0:
                    print(f"  {n} uploads queued, so far {dict(counts)}", flush=True)
    return counts


def rng_name(n: int) -> str:
    return ("wav", "mp3", "flac", "ogg", "bin", "")[n % 6]


def _clear_error(r: httpx.Response) -> bool:
    try:
        body = r.json()["error"]
        return bool(body["code"]) and len(str(body["message"])) > 5
    except (ValueError, KeyError, TypeError):
        return False


def schemathesis_run(srv: ServerProcess, token: str, minutes: float, report: Path) -> Counter[str]:
    """`st run` over /openapi.json for `minutes`, with the 5xx check; counts from its HAR report."""
    cmd = [
        str(Path(sys.executable).parent / "st"), "run", f"{srv.base_url}/openapi.json",
        "-H", f"Authorization: Bearer {token}",
        "--checks", "not_a_server_error",
        "--max-time", str(int(minutes * 60)),
        "--request-timeout", "30",
        "--continue-on-failure",
        "--exclude-path-regex", "^/api/auth/(logout|tokens|password)",
        "--report", "har", "--report-har-path", str(report),
        "--seed", "1",
    ]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=minutes * 60 + 600)
    print(result.stdout[-4000:], result.stderr[-2000:], flush=True)
    counts: Counter[str] = Counter({"st exit status": result.returncode})
    if report.exists():
        for entry in json.loads(report.read_text())["log"]["entries"]:
            status = int(entry["response"]["status"])
            counts["requests"] += 1
            counts[f"{status // 100}xx" if status else "no answer"] += 1
    return counts


def leftovers(srv: ServerProcess) -> list[str]:
    """ffmpeg/ffprobe/bwrap processes still alive, and temp files in the data dir."""
    found = []
    for proc in psutil.process_iter(["pid", "name", "cmdline"]):
        try:
            cmdline = " ".join(proc.info["cmdline"] or ())
            if proc.info["name"] in HELPERS and (str(srv.root) in cmdline or _below(proc, srv.pid)):
                found.append(f"process {proc.pid}: {cmdline[:120]}")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    for where in (srv.data_dir / "tmp", srv.data_dir / "blobs" / ".tmp"):
        if where.exists():
            found += [f"temp file {p}" for p in where.rglob("*") if p.is_file()]
    return found


def _below(proc: psutil.Process, ancestor: int) -> bool:
    return any(parent.pid == ancestor for parent in proc.parents())


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--uploads", type=int, default=10_000)
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--timeout", type=float, default=60.0, help="per request; longer is a hang")
    p.add_argument("--upload-minutes", type=float, default=90.0, help="start no upload after this")
    p.add_argument("--minutes", type=float, default=10.0, help="schemathesis time budget (0: skip it)")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    if args.uploads < 0 or args.concurrency < 1 or args.timeout <= 0 or args.minutes < 0:
        p.error("--uploads and --minutes must be >= 0, --concurrency >= 1, --timeout > 0")
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="riffroom-fuzz-") as tmp:
        root = Path(tmp)
        srv = ServerProcess(root, workers=1, auth="required", quota_songs=0, quota_bytes=0)
        srv.data_dir.mkdir(parents=True)
        add_user(srv, "fuzzer")
        srv.start(timeout=300)  # a loaded machine can take minutes to import everything
        try:
            session = login(srv, "fuzzer")
            r = session.post("/api/auth/tokens", json={"name": "fuzz"})
            session.close()
            assert r.status_code == 201, r.text
            token = r.json()["token"]
            uploads = fuzz_uploads(
                srv, token, args.uploads, args.concurrency, args.timeout, args.seed, args.upload_minutes
            )
            upload_minutes = (time.time() - started) / 60
            st: Counter[str] = Counter()
            if args.minutes:
                st = schemathesis_run(srv, token, args.minutes, root / "schemathesis.har")
            time.sleep(2)  # let the last decoder exit
            left = leftovers(srv)
            alive = srv.proc is not None and srv.proc.poll() is None
        finally:
            srv.stop()
    print(f"\nfuzz, {(time.time() - started) / 60:.1f} min (uploads {upload_minutes:.1f} min):")
    print(f"  mutated uploads: {dict(sorted(uploads.items()))}")
    print(f"  schemathesis ({args.minutes:g} min): {dict(sorted(st.items()))}")
    print(f"  left behind: {len(left)}{': ' + '; '.join(left[:5]) if left else ''}; server alive at the end: {alive}")
    bad = uploads["5xx"] + uploads["hang (no answer within the timeout)"] + uploads["4xx without a code and message"]
    bad += uploads["connection error"]
    bad += st["5xx"] + st["no answer"] + len(left) + (not alive) + (1 if st["st exit status"] else 0)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
