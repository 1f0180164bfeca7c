"""Read the server's database directly (read-only) to check what the API does not show."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any


def query(data_dir: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(f"file:{data_dir / 'riffroom.db'}?mode=ro", uri=True, timeout=30)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()
