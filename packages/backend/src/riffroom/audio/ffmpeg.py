"""How RiffRoom runs ffmpeg/ffprobe: no stdin, local files and pipes only, a timeout."""

from __future__ import annotations

import shutil

from ..errors import RiffRoomError

# No playlists, no network: ffmpeg may only open the file it is given and pipes.
PROTOCOL_ARGS = ["-protocol_whitelist", "file,pipe"]


def tool(name: str) -> str:
    """Path of ffmpeg/ffprobe, or an error that says how to install it."""
    path = shutil.which(name)
    if path is None:
        raise RiffRoomError(f"{name} is not installed (Debian: apt-get install ffmpeg)")
    return path
