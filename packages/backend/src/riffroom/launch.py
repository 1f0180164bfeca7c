"""The `riffroom` command's first step: a command that separates in its own process starts
again with its preloaded libraries (preload.py: jemalloc, MKL's dispatch) before anything heavy
is imported; then the CLI runs."""

from __future__ import annotations

import sys

from . import preload

SEPARATING = ("separate", "worker")


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] in SEPARATING:
        try:
            preload.restart_preloaded(sys.argv[1:])
        except ValueError as exc:  # RIFFROOM_ALLOCATOR or RIFFROOM_MKL_DISPATCH names no choice
            print(f"riffroom: {exc}", file=sys.stderr)
            return 2
    from .cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
