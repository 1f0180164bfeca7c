"""Who wrote a staging dir: `<host>-<pid>-<uuid>` names, and whether that writer is gone."""

from __future__ import annotations

import os
import re

HOST = re.sub(r"[^A-Za-z0-9_.]", "_", os.uname().nodename)[:40]


def writer_is_dead(name: str) -> bool:
    """A staging dir is `<host>-<pid>-<uuid>`: True when its host is this one and its pid is gone."""
    parts = name.rsplit("-", 2)
    if len(parts) != 3 or parts[0] != HOST or not parts[1].isdigit():
        return False
    try:
        os.kill(int(parts[1]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False
