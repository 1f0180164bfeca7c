"""Test songs for the server tests, made once per session with the shared synthesiser and ffmpeg."""

from __future__ import annotations

from pathlib import Path

from tests.fixtures.songs import encode, synth_song, write_wav


def salted_copy(src: Path, directory: Path, salt: bytes) -> Path:
    """The same audio with a few bytes appended: different content, so a different song to the server."""
    out = directory / f"{salt.hex()}-{src.name}"
    out.write_bytes(src.read_bytes() + salt)
    return out


def make_song(directory: Path, seconds: float, fmt: str = "mp3", seed: int = 0, name: str = "song") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    wav = write_wav(directory / f"{name}-{seed}-{seconds:g}.wav", synth_song(seconds, seed=seed).mixture)
    if fmt == "wav":
        return wav
    return encode(wav, directory / f"{name}-{seed}-{seconds:g}.{fmt}", fmt)
