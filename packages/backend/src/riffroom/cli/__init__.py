"""`riffroom` on the command line: one module per command, the root parser in `main`.

Each command module adds its own subparser and imports its heavy parts (torch, demucs, the
server, the analysis) inside the command function, so `riffroom --help` starts fast.
"""

from .main import build_parser, main

__all__ = ["build_parser", "main"]
