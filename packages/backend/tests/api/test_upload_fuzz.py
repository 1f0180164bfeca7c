"""Fuzzing the upload and probe path with mutated real audio: no 5xx, no hang, no stray ffmpeg.

The seed corpus is tests/fuzz_corpus/ (tiny real files in each container we sniff); hypothesis
flips bits, cuts, splices and overwrites headers, and every result goes through a real server.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import psutil
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from riffroom.audio.probe import probe
from riffroom.config import Settings
from riffroom.errors import BadInputError

from tests.api.harness import ServerProcess

CORPUS = sorted((Path(__file__).resolve().parents[1] / "fuzz_corpus").glob("seed.*"))
TOOLS = {"ffmpeg", "ffprobe", "bwrap"}
ACCEPTED = {200, 201, 400, 413, 415, 422}


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    seed = draw(st.sampled_from(CORPUS))
    data = bytearray(seed.read_bytes())
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "cut", "splice", "header", "repeat"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "cut":
            data = data[:at] if draw(st.booleans()) else data[at:]
        elif kind == "splice":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "header":
            data[4:12] = draw(st.binary(min_size=8, max_size=8))  # sizes and type fields live here
        elif kind == "repeat" and data:
            data += data[at : at + 4096] * draw(st.integers(1, 20))
    return seed.name, bytes(data)


def _stray_tools(pid: int) -> list[str]:
    try:
        return [p.name() for p in psutil.Process(pid).children(recursive=True) if p.name() in TOOLS]
    except psutil.Error:
        return []


@pytest.mark.skipif(not CORPUS, reason="no fuzz corpus")
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sample=mutated())
def test_mutated_uploads_never_break_the_server(server: ServerProcess, sample: tuple[str, bytes]) -> None:
    name, data = sample
    started = time.monotonic()
    with httpx.Client(base_url=server.base_url, timeout=60) as c:
        r = c.post("/api/songs", files={"file": (f"fuzz-{name}", data, "application/octet-stream")})
    assert r.status_code in ACCEPTED, f"{name} mutated ({len(data)} bytes): {r.status_code} {r.text}"
    assert r.headers["content-type"].startswith("application/json")
    if r.status_code >= 400:
        assert r.json()["error"]["message"]
    assert time.monotonic() - started < 30
    assert _stray_tools(server.pid) == []


@settings(max_examples=40, deadline=None, derandomize=True)
@given(sample=mutated())
def test_probe_judges_mutated_files_in_process(
    tmp_path_factory: pytest.TempPathFactory, sample: tuple[str, bytes]
) -> None:
    path = tmp_path_factory.mktemp("probe") / "sample"
    path.write_bytes(sample[1])
    try:
        info = probe(path, Settings(data_dir=path.parent, decode_timeout_seconds=20))
        assert info.format_name and info.sample_rate >= 0
    except BadInputError as exc:
        assert str(exc)
    assert [p for p in psutil.Process().children(recursive=True) if p.name() in TOOLS] == []
