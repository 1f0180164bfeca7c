"""Hostile uploads: over the cap (declared, lying, chunked), disguised non-audio, path traversal."""

from __future__ import annotations

import os
import socket
import time
import zipfile
from io import BytesIO
from pathlib import Path

import pytest

from tests.api.harness import ServerProcess, upload

CAP = 8 * 1024 * 1024  # the `server` fixture's max_upload_bytes
BOUNDARY = "riffroomtestboundary"


def _raw_request(srv: ServerProcess, head: str, body_chunks: object, read_timeout: float = 30.0) -> tuple[int, bytes]:
    """Send a request by hand (to lie about or omit Content-Length); return (status, raw response)."""
    sock = socket.create_connection(("127.0.0.1", srv.port))
    sock.settimeout(read_timeout)
    try:
        sock.sendall(head.encode())
        try:
            for chunk in body_chunks:  # type: ignore[attr-defined]
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server cut us off: read what it said
        data = b""
        try:
            while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < _length(data):
                part = sock.recv(65536)
                if not part:
                    break
                data += part
        except (TimeoutError, ConnectionResetError):
            pass
    finally:
        sock.close()
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1") else 0
    return status, data


def _length(raw: bytes) -> int:
    for line in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0


def _multipart_head(n: int = 0) -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.mp3"\r\n'
        f"Content-Type: audio/mpeg\r\n\r\n"
    ).encode()


def _song_count(srv: ServerProcess) -> int:
    with srv.client() as c:
        return len(c.get("/api/songs").json()["songs"])


def test_declared_content_length_over_cap_is_refused_before_reading(server: ServerProcess) -> None:
    head = (
        f"POST /api/songs HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {CAP * 10}\r\n\r\n"
    )
    status, raw = _raw_request(server, head, [_multipart_head()])
    assert status == 413, raw[:300]
    assert b'"too_large"' in raw


def _chunked(total: int, chunk: int = 256 * 1024):
    yield b"%x\r\n%s\r\n" % (len(_multipart_head()), _multipart_head())
    sent = 0
    block = os.urandom(chunk)
    while sent < total:
        yield b"%x\r\n%s\r\n" % (len(block), block)
        sent += len(block)
    yield b"0\r\n\r\n"


def test_chunked_upload_over_cap_is_cut_with_413_and_memory_stays_bounded(server: ServerProcess) -> None:
    before_songs = _song_count(server)
    rss_before = server.rss()
    head = (
        f"POST /api/songs HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    )
    status, raw = _raw_request(server, head, _chunked(CAP * 6))
    assert status == 413, raw[:300]
    assert server.rss() - rss_before < 40 * 1024 * 1024
    assert _song_count(server) == before_songs
    assert not list((server.data_dir / "tmp").iterdir()), "the partial upload is removed"


def test_lying_content_length_never_lets_more_than_the_cap_in(server: ServerProcess) -> None:
    """Content-Length claims 1 KB, the body streams 6x the cap: refused, nothing stored, memory bounded."""
    before_songs = _song_count(server)
    rss_before = server.rss()
    head = (
        f"POST /api/songs HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        "Content-Length: 1024\r\n\r\n"
    )
    block = os.urandom(256 * 1024)
    status, raw = _raw_request(server, head, [_multipart_head()] + [block] * (CAP * 6 // len(block)))
    assert status in (400, 413), raw[:300]
    assert server.rss() - rss_before < 40 * 1024 * 1024
    assert _song_count(server) == before_songs


def test_file_part_over_cap_with_honest_length_is_413(server: ServerProcess) -> None:
    with server.client() as c:
        r = c.post("/api/songs", files={"file": ("big.mp3", b"\xff\xfb" + os.urandom(CAP), "audio/mpeg")})
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "too_large"


def _zip_bytes() -> bytes:
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.txt", "hello")
    return buf.getvalue()


@pytest.mark.parametrize(
    "name,content",
    [
        ("page.mp3", b"<!DOCTYPE html><html><body>not a song</body></html>"),
        ("archive.mp3", _zip_bytes()),
        ("program.mp3", b"\x7fELF\x02\x01\x01" + b"\x00" * 200),
        ("list.mp3", b"#EXTM3U\n#EXTINF:10,\nfile:///etc/passwd\n"),
        ("concat.mp3", b"ffconcat version 1.0\nfile '/etc/passwd'\n"),
        ("hls.m3u8", b"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n/etc/passwd\n"),
        ("fake.wav", b"RIFF\x24\x00\x00\x00WAVEjunkjunkjunk" + os.urandom(64)),
    ],
)
def test_disguised_non_audio_is_415(server: ServerProcess, tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with server.client() as c:
        r = upload(c, path)
    assert r.status_code == 415, r.text
    assert r.json()["error"]["code"] == "unsupported_media"
    assert name in r.json()["error"]["message"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/songs/..%2F..%2Fetc%2Fpasswd",
        "/api/songs/../../etc/passwd",
        "/api/songs/%2e%2e%2f%2e%2e%2fetc%2fpasswd/stems/vocals",
        "/api/songs/{id}/stems/..%2F..%2F..%2Fetc%2Fpasswd",
        "/api/songs/{id}/stems/../../riffroom.db",
        "/api/songs/{id}/peaks?stem=../../riffroom.db",
        "/api/songs/by-hash/..%2F..%2Fetc%2Fpasswd",
        "/api/jobs/..%2F..%2Fetc%2Fpasswd",
        "/api/songs/{id}/stems/vocals?format=../../etc/passwd",
    ],
)
def test_path_traversal_in_path_parameters_is_4xx(server: ServerProcess, short_mp3: Path, url: str) -> None:
    with server.client() as c:
        song_id = upload(c, short_mp3).json()["id"]
        r = c.get(url.replace("{id}", song_id))
    assert 400 <= r.status_code < 500, (url, r.status_code)
    assert b"root:" not in r.content and b"SQLite" not in r.content


def test_traversal_in_upload_filename_never_reaches_the_filesystem(
    server: ServerProcess, short_mp3: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "escaped.mp3"
    evil = f"../../../../{marker}"
    copy = tmp_path / "copy.mp3"
    copy.write_bytes(short_mp3.read_bytes() + b"\x00")  # different content: a new song
    with server.client() as c:
        r = upload(c, copy, name=evil)
    assert r.status_code == 201, r.text
    assert "/" not in r.json()["original_filename"] and ".." not in r.json()["name"].split("/")
    assert not marker.exists()
    time.sleep(0.1)
    assert not any("escaped" in p.name for p in server.root.rglob("*"))


def test_client_vanishing_mid_upload_leaves_nothing_behind(server: ServerProcess) -> None:
    before = _song_count(server)
    sock = socket.create_connection(("127.0.0.1", server.port))
    body = _multipart_head() + os.urandom(512 * 1024)
    sock.sendall(
        (
            f"POST /api/songs HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"Content-Length: {len(body) * 4}\r\n\r\n"
        ).encode()
        + body
    )
    time.sleep(0.3)
    sock.close()
    tmp = server.data_dir / "tmp"
    deadline = time.time() + 10
    while any(tmp.iterdir()) and time.time() < deadline:
        time.sleep(0.05)
    assert not any(tmp.iterdir())
    assert _song_count(server) == before
