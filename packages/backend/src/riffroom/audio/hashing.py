"""Content hashing: the full SHA-256 of the input bytes keys the separation cache."""

from __future__ import annotations

import hashlib
from pathlib import Path

_BLOCK = 1024 * 1024


def sha256_file(path: Path) -> str:
    """All 64 hex digits of the file's SHA-256, read in blocks (never truncated)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()
