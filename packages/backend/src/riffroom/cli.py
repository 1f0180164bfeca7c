"""`riffroom` on the command line: separate songs, manage models, run the server."""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

from .config import Settings, get_settings
from .errors import RiffRoomError

STEM_CHOICES = ("vocals", "drums", "bass", "guitar", "piano", "other")


def _safe_name(name: str) -> str:
    """A song's folder name: its file stem with path separators and control characters removed."""
    cleaned = re.sub(r"[\x00-\x1f/\\]+", "_", name).strip(". ") or "song"
    return cleaned[:120]


class _Reporter:
    """Progress for one song: a tqdm bar on a terminal, JSON lines with --json, nothing otherwise."""

    def __init__(self, song: Path, as_json: bool) -> None:
        self.song = song
        self.as_json = as_json
        self._bar = None
        if not as_json and sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=100, leave=True, bar_format="{desc} |{bar}| {n:3.0f}% {unit}")

    def __call__(self, p) -> None:  # p: separation.api.Progress
        if self.as_json:
            eta = None if p.eta_seconds is None else round(p.eta_seconds, 1)
            self.emit(
                {
                    "event": "progress",
                    "song": str(self.song),
                    "stage": p.stage,
                    "percent": round(100 * p.fraction, 1),
                    "eta_seconds": eta,
                }
            )
        elif self._bar is not None:
            self._bar.n = 100 * p.fraction
            self._bar.unit = "" if p.eta_seconds is None else f"ETA {p.eta_seconds:.0f} s"
            self._bar.set_description_str(f"{self.song.name[:30]} {p.stage:<10}", refresh=True)

    def emit(self, record: dict) -> None:
        print(json.dumps(record), flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def cmd_separate(args: argparse.Namespace, settings: Settings) -> int:
    from .audio.encode import mix_to, transcode
    from .separation.api import separate

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
                written.append(_write_minus(result, args.minus, out_dir, args.format, mix_to))
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
            }
            if args.json:
                reporter.emit(summary)
            else:
                print(f"{song.name}: {len(written)} files in {out_dir} ({how}; {summary['seconds']} s)")
        except KeyboardInterrupt:
            reporter.close()
            print(f"{song}: cancelled", file=sys.stderr)
            return 130
        except (RiffRoomError, ValueError, OSError) as exc:
            reporter.close()
            failures += 1
            if isinstance(exc, OSError) and exc.strerror:
                exc = RiffRoomError(f"cannot read it ({exc.strerror.lower()})")
            if args.json:
                reporter.emit({"event": "error", "song": str(song), "error": str(exc)})
            print(f"{song}: {exc}", file=sys.stderr)
    return 1 if failures else 0


def _write_minus(result, stem: str, out_dir: Path, fmt: str, mix_to: Callable) -> Path:
    """The backing track: every stem of the song but `stem` (which must be one the engine makes)."""
    every = _all_stems(result)
    if stem not in every:
        raise ValueError(f"--minus {stem}: the {result.engine} engine made no {stem} stem ({', '.join(every)})")
    gains = {name: (0.0 if name == stem else 1.0) for name in every}
    return mix_to(out_dir / f"no_{stem}.{fmt}", every, gains, fmt)


def _all_stems(result) -> dict[str, Path]:
    """Every stem the engine made, not only those asked for."""
    from .storage.stems import stems_beside

    return stems_beside(next(iter(result.stems.values())))


def cmd_models(args: argparse.Namespace, settings: Settings) -> int:
    from .separation.engines import models

    if args.action == "fetch":
        if not args.name:
            print("usage: riffroom models fetch NAME", file=sys.stderr)
            return 2
        models.fetch(args.name)
        print(f"{args.name}: weights downloaded")
        return 0
    rows = [
        {
            "engine": "dsp",
            "model": "dsp",
            "stems": "drums,bass,other,vocals",
            "weights": "none needed",
            "about": "weight-free: HPSS, stereo and pitch cues; works offline",
        }
    ]
    for spec in models.MODELS.values():
        present = models.weights_present(spec.name, settings.model_dir)
        rows.append(
            {
                "engine": "demucs",
                "model": spec.name,
                "stems": ",".join(spec.stems),
                "weights": "present" if present else "missing",
                "about": spec.about,
            }
        )
    if args.json:
        for row in rows:
            print(json.dumps(row))
    else:
        for row in rows:
            print(f"{row['engine']:<7} {row['model']:<16} {row['weights']:<12} {row['stems']:<40} {row['about']}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="riffroom", description="Split songs into stems and practise with them.")
    sub = parser.add_subparsers(dest="command", required=True)

    sep = sub.add_parser("separate", help="split songs into stem files")
    sep.add_argument("songs", nargs="+", type=Path, metavar="SONG")
    sep.add_argument("-o", "--output", type=Path, default=Path("separated"), help="output folder (default: separated)")
    sep.add_argument("--engine", choices=("auto", "demucs", "dsp"), default=None)
    sep.add_argument("--model", choices=("htdemucs", "htdemucs_6s", "htdemucs_ft", "demucs_unittest"), default=None)
    sep.add_argument("--stems", help="comma-separated stems to write, e.g. vocals,drums")
    sep.add_argument("--format", choices=("wav", "flac", "mp3"), default="wav")
    sep.add_argument("--minus", choices=STEM_CHOICES, help="also write the song without this stem")
    sep.add_argument("--device", choices=("cpu", "cuda"), default=None)
    sep.add_argument("--json", action="store_true", help="JSON lines on stdout instead of a progress bar")
    sep.set_defaults(func=cmd_separate)

    mod = sub.add_parser("models", help="list engines and models, or fetch weights")
    mod.add_argument("action", nargs="?", choices=("list", "fetch"), default="list")
    mod.add_argument("name", nargs="?")
    mod.add_argument("--json", action="store_true")
    mod.set_defaults(func=cmd_models)

    try:
        from .api.serve_command import add_serve_parser
        from .api.users_command import add_users_parser
    except ImportError:
        pass
    else:
        add_serve_parser(sub)
        from .jobs.worker_command import add_worker_parser

        add_worker_parser(sub)
        add_users_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = get_settings()
    overrides = {}
    if getattr(args, "engine", None):
        overrides["default_engine"] = args.engine
    if getattr(args, "device", None):
        overrides["device"] = args.device
    if overrides:
        settings = settings.model_copy(update=overrides)
    if getattr(args, "engine", "x") is None:
        args.engine = settings.default_engine
    try:
        return int(args.func(args, settings) or 0)
    except RiffRoomError as exc:
        print(f"riffroom: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
