"""Both blob stores behind one protocol: validated keys, atomic puts and copies, idempotent deletes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from riffroom.config import Settings
from riffroom.storage.blobs import BlobStore, open_blob_store


def _file_store(tmp_path: Path) -> BlobStore:
    settings = Settings(data_dir=tmp_path / "data")
    return open_blob_store(settings.resolved_blob_url, settings)


@pytest.mark.parametrize("key", ["../x", "/etc/passwd", "songs/../../x", "a//b", "A/B", "", "songs/./x", "x/.."])
def test_bad_keys_are_refused(tmp_path: Path, key: str) -> None:
    blobs = _file_store(tmp_path)
    with pytest.raises(ValueError):
        blobs.exists(key)


def _exercise(blobs: BlobStore, tmp_path: Path) -> None:
    """What every caller above the seam relies on, asked of one backend."""
    src = tmp_path / "upload"
    src.write_bytes(b"hello")
    blobs.put_file("songs/ab/abc", src)
    assert not src.exists()  # put_file moves
    assert blobs.exists("songs/ab/abc") and blobs.size("songs/ab/abc") == 5
    with blobs.open("songs/ab/abc") as fh:
        assert fh.read() == b"hello"
    with blobs.local_path("songs/ab/abc") as p:
        assert p.read_bytes() == b"hello"

    kept = tmp_path / "kept.wav"
    kept.write_bytes(b"stem bytes")
    blobs.upload("stems/k/vocals.wav", kept)
    assert kept.read_bytes() == b"stem bytes"  # upload copies
    back = tmp_path / "back.wav"
    blobs.download("stems/k/vocals.wav", back)
    assert back.read_bytes() == b"stem bytes"
    with pytest.raises(FileNotFoundError):
        blobs.download("stems/k/missing.wav", tmp_path / "nothing")
    with pytest.raises(FileNotFoundError):
        with blobs.local_path("songs/ab/missing"):
            pass

    blobs.delete("songs/ab/abc")
    blobs.delete("songs/ab/abc")
    assert not blobs.exists("songs/ab/abc")


def test_file_store(tmp_path: Path) -> None:
    blobs = _file_store(tmp_path)
    _exercise(blobs, tmp_path)
    assert blobs.remote is False
    assert not list((tmp_path / "data" / "blobs" / ".tmp").iterdir())  # no temp file left behind


def test_s3_store(s3_store: Callable[[], BlobStore], tmp_path: Path) -> None:
    blobs = s3_store()
    _exercise(blobs, tmp_path)
    assert blobs.remote is True


def test_unknown_scheme_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        open_blob_store("ftp://example.com/x", Settings(data_dir=tmp_path))
