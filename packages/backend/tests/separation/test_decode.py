"""Decoding: every accepted format and layout in, float32 stereo 44.1 kHz out; bad input refused clearly."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from riffroom.audio.decode import decode
from riffroom.config import Settings
from riffroom.errors import BadInputError, CapExceededError

from tests.fixtures.songs import SR, encode, synth_song, write_wav

SECONDS = 3.0


@pytest.fixture(scope="module")
def source_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_wav(tmp_path_factory.mktemp("dec") / "src.wav", synth_song(SECONDS).mixture)


@pytest.mark.parametrize("fmt", ["mp3", "wav", "flac", "ogg", "opus", "m4a", "aac", "aiff"])
def test_every_format_decodes_to_stereo_44k(fmt: str, source_wav: Path, tmp_path: Path, settings: Settings) -> None:
    path = encode(source_wav, tmp_path / f"song.{fmt}", fmt)
    with decode(path, settings=settings) as audio:
        assert audio.duration == pytest.approx(SECONDS, abs=0.1)
        block = audio.read(0, audio.frames)
        assert block.shape == (2, audio.frames) and block.dtype == np.float32
        assert 0.3 < np.abs(block).max() < 1.2


def test_extension_is_ignored(source_wav: Path, tmp_path: Path, settings: Settings) -> None:
    disguised = encode(source_wav, tmp_path / "x.flac", "flac").rename(tmp_path / "song.mp3")
    with decode(disguised, settings=settings) as audio:
        assert audio.info.format_name == "flac"


@pytest.mark.parametrize(
    ("desc", "extra"),
    [
        ("mono", ["-ac", "1"]),
        ("48k", ["-ar", "48000"]),
        ("6ch", ["-af", "pan=5.1|c0=c0|c1=c1|c2=c0|c3=c1|c4=c0|c5=c1"]),
    ],
)
def test_layouts_and_rates(desc: str, extra: list[str], source_wav: Path, tmp_path: Path, settings: Settings) -> None:
    path = encode(source_wav, tmp_path / f"{desc}.wav", "wav", extra)
    with decode(path, settings=settings) as audio:
        assert audio.duration == pytest.approx(SECONDS, abs=0.01)
        assert audio.read(0, audio.frames).shape[0] == 2


def test_eight_bit(tmp_path: Path, settings: Settings) -> None:
    path = write_wav(tmp_path / "u8.wav", synth_song(SECONDS).mixture, subtype="PCM_U8")
    with decode(path, settings=settings) as audio:
        assert audio.duration == pytest.approx(SECONDS, abs=0.01)
        assert np.abs(audio.read(0, audio.frames)).max() > 0.3


def test_mono_is_centred(tmp_path: Path, settings: Settings) -> None:
    t = np.arange(SR) / SR
    path = write_wav(tmp_path / "m.wav", 0.5 * np.sin(2 * np.pi * 440 * t))
    with decode(path, settings=settings) as audio:
        left, right = audio.read(0, audio.frames)
        np.testing.assert_allclose(left, right)


def _raises(path: Path, settings: Settings, *words: str, code: str | None = None) -> BadInputError:
    with pytest.raises(BadInputError) as info:
        decode(path, settings=settings)
    message = str(info.value).lower()
    assert any(w in message for w in words), message
    if code:
        assert info.value.code == code
    return info.value


def test_not_audio(tmp_path: Path, settings: Settings) -> None:
    (tmp_path / "a.mp3").write_text("hello, this is a text file\n" * 20)
    _raises(tmp_path / "a.mp3", settings, "not an audio file", code="unsupported_media")
    (tmp_path / "p.mp3").write_bytes(b"<!DOCTYPE html><html><body>hi</body></html>")
    _raises(tmp_path / "p.mp3", settings, "web page", code="unsupported_media")
    shutil.make_archive(str(tmp_path / "z"), "zip", tmp_path, "a.mp3")
    _raises(Path(str(tmp_path / "z") + ".zip"), settings, "zip", code="unsupported_media")


def test_container_without_audio_is_unsupported(tmp_path: Path, settings: Settings) -> None:
    video = tmp_path / "clip.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=duration=1:size=64x64:rate=5",
            "-c:v",
            "mpeg4",
            str(video),
        ],
        check=True,
    )
    _raises(video, settings, "no audio stream", code="unsupported_media")


def test_playlists_are_refused_before_ffmpeg_reads_them(tmp_path: Path, settings: Settings, source_wav: Path) -> None:
    (tmp_path / "list.mp3").write_text(f"#EXTM3U\n#EXTINF:3,x\nfile://{source_wav}\n")
    _raises(tmp_path / "list.mp3", settings, "playlist", code="unsupported_media")
    (tmp_path / "concat.mp3").write_text(f"ffconcat version 1.0\nfile '{source_wav}'\n")
    _raises(tmp_path / "concat.mp3", settings, "playlist", code="unsupported_media")


def test_empty_and_truncated(tmp_path: Path, settings: Settings, source_wav: Path) -> None:
    (tmp_path / "empty.wav").write_bytes(b"")
    _raises(tmp_path / "empty.wav", settings, "empty", code="empty")
    data = source_wav.read_bytes()
    (tmp_path / "cut.wav").write_bytes(data[: len(data) // 3])
    _raises(tmp_path / "cut.wav", settings, "truncated", code="truncated")
    flac = encode(source_wav, tmp_path / "whole.flac", "flac").read_bytes()
    (tmp_path / "cut.flac").write_bytes(flac[: len(flac) // 3])
    _raises(tmp_path / "cut.flac", settings, "truncated", code="truncated")
    (tmp_path / "header.wav").write_bytes(data[:44])
    _raises(tmp_path / "header.wav", settings, "no audio", "truncated", "cannot decode")


def test_silent(tmp_path: Path, settings: Settings) -> None:
    path = write_wav(tmp_path / "silence.wav", np.zeros((SR * 2, 2)))
    _raises(path, settings, "silent", code="silent")


def test_too_long_is_judged_on_decoded_samples(tmp_path: Path, source_wav: Path) -> None:
    capped = Settings(data_dir=tmp_path, max_duration_seconds=1.0)
    with pytest.raises(CapExceededError) as info:
        decode(source_wav, settings=capped)
    assert "limit" in str(info.value)
    # A header claiming a short duration does not fool the cap: patch the WAV data size down.
    raw = bytearray(source_wav.read_bytes())
    raw[40:44] = (SR * 4 // 2).to_bytes(4, "little")  # claims 0.5 s
    (tmp_path / "liar.wav").write_bytes(bytes(raw))
    with decode(tmp_path / "liar.wav", settings=Settings(data_dir=tmp_path)) as audio:
        assert audio.duration <= SECONDS + 0.01


def test_file_size_cap(tmp_path: Path, source_wav: Path) -> None:
    with pytest.raises(BadInputError, match="limit"):
        decode(source_wav, settings=Settings(data_dir=tmp_path, max_file_bytes=1000))


def test_nothing_left_behind_on_failure(tmp_path: Path, settings: Settings) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    path = write_wav(tmp_path / "silence.wav", np.zeros((SR, 2)))
    with pytest.raises(BadInputError):
        decode(path, settings=settings, spool_dir=spool)
    assert list(spool.iterdir()) == []
    assert subprocess.run(["pgrep", "-f", "riffroom-decode"], capture_output=True).stdout == b""


def test_read_pads_with_zeros_outside(source_wav: Path, settings: Settings) -> None:
    with decode(source_wav, settings=settings) as audio:
        block = audio.read(-100, 200)
        assert not block[:, :100].any()
        reference, _ = sf.read(source_wav, dtype="float32")
        np.testing.assert_allclose(block[:, 100:], reference[:100].T, atol=1e-4)


def test_a_probe_from_before_is_used_only_for_the_file_it_describes(
    source_wav: Path, tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker hands the decode what the upload's probe found (the song's row): no second ffprobe,
    the same samples. A probe that no longer describes the file (another container) is not trusted."""
    from riffroom.audio import decode as decoding
    from riffroom.audio.probe import probe

    mp3 = encode(source_wav, tmp_path / "song.mp3", "mp3")
    probed = probe(mp3, settings)
    expected = decode(mp3, settings=settings)
    probes: list[Path] = []
    real_probe = decoding.probe
    monkeypatch.setattr(decoding, "probe", lambda path, s=None: probes.append(path) or real_probe(path, s))
    given = decode(mp3, settings=settings, info=probed)
    assert probes == []
    assert given.stats == expected.stats
    assert np.array_equal(given.read(0, given.frames), expected.read(0, expected.frames))
    wav_claimed = decode(mp3, settings=settings, info=probe(source_wav, settings))  # says wav: an mp3 is there
    assert len(probes) == 1 and wav_claimed.stats == expected.stats
    for audio in (expected, given, wav_claimed):
        audio.close()
