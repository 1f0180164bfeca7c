"""The file blob store: validated keys, atomic puts, idempotent deletes."""

from __future__ import annotations

from pathlib import Path

import pytest
from riffroom.storage.blobs import open_blob_store


@pytest.mark.parametrize("key", ["../x", "/etc/passwd", "songs/../../x", "a//b", "A/B", "", "songs/./x", "x/.."])
def test_bad_keys_are_refused(tmp_path: Path, key: str) -> None:
    blobs = open_blob_store(f"file://{tmp_path / 'blobs'}")
    with pytest.raises(ValueError):
        blobs.exists(key)


def test_put_open_delete(tmp_path: Path) -> None:
    blobs = open_blob_store(f"file://{tmp_path / 'blobs'}")
    src = tmp_path / "upload"
    src.write_bytes(b"hello")
    blobs.put_file("songs/ab/abc", src)
    assert not src.exists()
    assert blobs.exists("songs/ab/abc") and blobs.size("songs/ab/abc") == 5
    with blobs.open("songs/ab/abc") as fh:
        assert fh.read() == b"hello"
    with blobs.local_path("songs/ab/abc") as p:
        assert p.read_bytes() == b"hello"
    assert list(blobs.keys("songs")) == ["songs/ab/abc"]
    assert not list((tmp_path / "blobs" / ".tmp").iterdir())
    blobs.delete("songs/ab/abc")
    blobs.delete("songs/ab/abc")
    assert not blobs.exists("songs/ab/abc")


def test_unknown_scheme_is_refused() -> None:
    with pytest.raises(ValueError):
        open_blob_store("ftp://example.com/x")
