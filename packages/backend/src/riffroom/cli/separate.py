"""`riffroom separate SONG...`: stem files for each song, one folder per song."""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import mkl_dispatch
from ..allocator import running_on_jemalloc
from ..config import Settings
from .batch import SONG_ERRORS, TerminalBar, add_engine_options, song_error

if TYPE_CHECKING:
    from ..separation.api import Progress, StemSet

STEM_CHOICES = ("vocals", "drums", "bass", "guitar", "piano", "other")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    sep: argparse.ArgumentParser = subparsers.add_parser("separate", help="split songs into stem files")
    sep.add_argument("songs", nargs="+", type=Path, metavar="SONG")
    sep.add_argument("-o", "--output", type=Path, default=Path("separated"), help="output folder (default: separated)")
    add_engine_options(sep)
    sep.add_argument("--stems", help="comma-separated stems to write, e.g. vocals,drums")
    sep.add_argument("--format", choices=("wav", "flac", "mp3"), default="wav")
    sep.add_argument("--minus", choices=STEM_CHOICES, help="also write the song without this stem")
    sep.add_argument("--json", action="store_true", help="JSON lines on stdout instead of a progress bar")
    sep.set_defaults(func=cmd_separate)
    return sep


def _safe_name(name: str) -> str:
    """A song's folder name: its file stem with path separators and control characters removed."""
    cleaned = re.sub(r"[\x00-\x1f/\\]+", "_", name).strip(". ") or "song"
    return cleaned[:120]


class _Reporter:
    """Progress for one song: a tqdm bar on a terminal, JSON lines with --json, nothing otherwise."""

    def __init__(self, song: Path, as_json: bool) -> None:
        self.song = song
        self.as_json = as_json
        self._bar = TerminalBar() if not as_json and sys.stderr.isatty() else None

    def __call__(self, p: Progress) -> None:
        if self.as_json:
            eta = None if p.eta_seconds is None else round(p.eta_seconds, 1)
            self.emit(
                {
                    "event": "progress",
                    "song": str(self.song),
                    "stage": p.stage,
                    "percent": round(100 * p.fraction, 1),
                    "eta_seconds": eta,
                    "ready_seconds": round(p.ready_seconds, 3),  # seconds of every stem that are final
                }
            )
        elif self._bar is not None:
            self._bar.show(self.song.name, p.stage, p.fraction, p.eta_seconds)

    def emit(self, record: dict[str, object]) -> None:
        print(json.dumps(record), flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def cmd_separate(args: argparse.Namespace, settings: Settings) -> int:
    from ..audio.encode import transcode
    from ..separation.api import separate

    stems = [s.strip() for s in args.stems.split(",") if s.strip()] if args.stems else None
    failures = 0
    for song in args.songs:
        reporter = _Reporter(song, args.json)
        try:
            started = time.monotonic()
            result = separate(
                song, engine=args.engine, model=args.model, stems=stems, progress=reporter, settings=settings
            )
            out_dir = args.output / _safe_name(song.stem)
            out_dir.mkdir(parents=True, exist_ok=True)
            written = [
                transcode(path, out_dir / f"{name}.{args.format}", args.format) for name, path in result.stems.items()
            ]
            if args.minus:
                written.append(_write_minus(result, args.minus, out_dir, args.format))
            result.release()
            reporter.close()
            how = "from the cache, no separation needed" if result.cached else result.reason
            summary = {
                "event": "done",
                "song": str(song),
                "engine": result.engine,
                "model": result.model,
                "cached": result.cached,
                "seconds": round(time.monotonic() - started, 2),
                "files": [str(p) for p in written],
                "allocator": "jemalloc" if running_on_jemalloc() else "system",  # allocator.py
                "mkl_dispatch": "preloaded" if mkl_dispatch.loaded() else "none",  # mkl_dispatch.py
            }
            if args.json:
                reporter.emit(summary)
            else:
                ran = f"{result.engine} {result.model}"
                print(f"{song.name}: {len(written)} files in {out_dir} ({ran}; {how}; {summary['seconds']} s)")
        except KeyboardInterrupt:
            reporter.close()
            print(f"{song}: cancelled", file=sys.stderr)
            return 130
        except SONG_ERRORS as exc:
            reporter.close()
            failures += 1
            shown = song_error(exc)
            if args.json:
                reporter.emit({"event": "error", "song": str(song), "error": str(shown)})
            print(f"{song}: {shown}", file=sys.stderr)
    return 1 if failures else 0


def _write_minus(result: StemSet, stem: str, out_dir: Path, fmt: str) -> Path:
    """The backing track: every stem of the song but `stem` (which must be one the engine makes)."""
    from ..audio.encode import mix_to

    every = _all_stems(result)
    if stem not in every:
        raise ValueError(f"--minus {stem}: the {result.engine} engine made no {stem} stem ({', '.join(every)})")
    gains = {name: (0.0 if name == stem else 1.0) for name in every}
    return mix_to(out_dir / f"no_{stem}.{fmt}", every, gains, fmt)


def _all_stems(result: StemSet) -> dict[str, Path]:
    """Every stem the engine made, not only those asked for."""
    from ..storage.stems import stems_beside

    return stems_beside(next(iter(result.stems.values())))
