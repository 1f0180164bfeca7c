"""The `riffroom` command's first step: a command that separates in its own process starts
again on jemalloc (allocator.py) before anything heavy is imported; then the CLI runs."""

from __future__ import annotations

import sys

from . import allocator

SEPARATING = ("separate", "worker")


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] in SEPARATING:
        try:
            allocator.restart_with_jemalloc(sys.argv[1:])
        except ValueError as exc:  # RIFFROOM_ALLOCATOR names no allocator
            print(f"riffroom: {exc}", file=sys.stderr)
            return 2
    from .cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
