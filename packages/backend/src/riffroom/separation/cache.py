"""The content cache: stems keyed by what went in, published atomically, evicted by last use.

Layout under the cache dir: `objects/<key>/` holds one float WAV per stem and `manifest.json`
(written last); `tmp/` holds entries being written; `index.sqlite` tracks every entry's size and
last use, so budget checks and health probes never walk the directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import cast

FORMAT_VERSION = 1  # bump when the bytes we cache for the same key would change
MANIFEST = "manifest.json"
_STALE_TMP_SECONDS = 24 * 3600


def cache_key(sha256: str, engine: str, model: str, params: dict[str, object]) -> str:
    """SHA-256 over the full content hash and everything that changes the stems."""
    if len(sha256) != 64:
        raise ValueError("the content hash must be a full 64-digit SHA-256")
    blob = json.dumps(
        {"content": sha256, "engine": engine, "model": model, "params": params, "format": FORMAT_VERSION},
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True)
class CacheEntry:
    key: str
    directory: Path
    manifest: dict[str, object]

    @property
    def stems(self) -> dict[str, Path]:
        names = cast(list[str], self.manifest["stems"])
        return {name: self.directory / f"{name}.wav" for name in names}


class EntryTooLargeError(Exception):
    """An entry bigger than the whole budget is refused rather than evicting everything."""


class StemCache:
    """A byte-budgeted, LRU content cache safe to share between processes."""

    def __init__(self, root: Path, budget_bytes: int) -> None:
        self.root = root
        self.budget_bytes = budget_bytes
        self.objects = root / "objects"
        self.tmp = root / "tmp"
        self.objects.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)
        self._db_path = root / "index.sqlite"
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, size INTEGER NOT NULL,"
                " last_used REAL NOT NULL, pinned_until REAL NOT NULL DEFAULT 0)"
            )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self._db_path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            yield db
        finally:
            db.close()

    # -- reading ---------------------------------------------------------------------------------
    def lookup(self, key: str, *, pin_seconds: float = 0.0) -> CacheEntry | None:
        """The published entry for `key`, marked as just used (and pinned against eviction)."""
        directory = self.objects / key
        manifest_path = directory / MANIFEST
        if not manifest_path.is_file():
            return None
        manifest = json.loads(manifest_path.read_text())
        now = time.time()
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute("SELECT 1 FROM entries WHERE key=?", (key,)).fetchone()
            if row is None:  # published by a writer that died before indexing it
                db.execute(
                    "INSERT INTO entries(key, size, last_used) VALUES (?,?,?)", (key, int(manifest["size"]), now)
                )
            db.execute(
                "UPDATE entries SET last_used=?, pinned_until=MAX(pinned_until, ?) WHERE key=?",
                (now, now + pin_seconds, key),
            )
            db.execute("COMMIT")
        return CacheEntry(key, directory, manifest)

    def unpin(self, key: str) -> None:
        with self._connect() as db:
            db.execute("UPDATE entries SET pinned_until=0 WHERE key=?", (key,))

    def total_bytes(self) -> int:
        with self._connect() as db:
            return int(db.execute("SELECT COALESCE(SUM(size), 0) FROM entries").fetchone()[0])

    def count(self) -> int:
        with self._connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    # -- writing ---------------------------------------------------------------------------------
    def new_staging_dir(self) -> Path:
        """A private directory to write an entry into; nothing there is ever served."""
        self._sweep_stale_tmp()
        path = self.tmp / uuid.uuid4().hex
        path.mkdir()
        return path

    def publish(self, key: str, staging: Path, manifest: dict[str, object]) -> CacheEntry:
        """Make `staging` the entry for `key`: fsync files, write the manifest last, rename atomically."""
        size = 0
        for item in staging.iterdir():
            _fsync(item)
            size += item.stat().st_size
        manifest = {**manifest, "size": size, "key": key, "format": FORMAT_VERSION}
        if size > self.budget_bytes:
            raise EntryTooLargeError(f"{size} bytes is more than the whole cache budget ({self.budget_bytes})")
        manifest_tmp = staging / (MANIFEST + ".part")
        manifest_tmp.write_text(json.dumps(manifest, indent=1))
        _fsync(manifest_tmp)
        manifest_tmp.rename(staging / MANIFEST)
        _fsync(staging)
        target = self.objects / key
        try:
            staging.rename(target)
        except OSError:  # another process published the same key first: theirs is as good
            shutil.rmtree(staging, ignore_errors=True)
        _fsync(self.objects)
        now = time.time()
        with self._connect() as db:
            db.execute(
                "INSERT INTO entries(key, size, last_used, pinned_until) VALUES (?,?,?,?)"
                " ON CONFLICT(key) DO UPDATE SET last_used=excluded.last_used",
                (key, size, now, now + 60),
            )
        self.evict(keep=key)
        entry = self.lookup(key)
        assert entry is not None
        return entry

    def evict(self, keep: str | None = None) -> list[str]:
        """Delete least recently used, unpinned entries until the total fits the budget."""
        evicted: list[str] = []
        now = time.time()
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            total = int(db.execute("SELECT COALESCE(SUM(size), 0) FROM entries").fetchone()[0])
            if total > self.budget_bytes:
                rows = db.execute(
                    "SELECT key, size FROM entries WHERE pinned_until < ? AND key != ? ORDER BY last_used",
                    (now, keep or ""),
                ).fetchall()
                for key, size in rows:
                    if total <= self.budget_bytes:
                        break
                    db.execute("DELETE FROM entries WHERE key=?", (key,))
                    total -= size
                    evicted.append(key)
            db.execute("COMMIT")
        for key in evicted:  # unlink outside the transaction; rename first so no reader sees half
            doomed = self.tmp / f"evict-{key}-{uuid.uuid4().hex[:8]}"
            try:
                (self.objects / key).rename(doomed)
            except OSError:
                continue
            shutil.rmtree(doomed, ignore_errors=True)
        return evicted

    def remove(self, key: str) -> None:
        with self._connect() as db:
            db.execute("DELETE FROM entries WHERE key=?", (key,))
        shutil.rmtree(self.objects / key, ignore_errors=True)

    def _sweep_stale_tmp(self) -> None:
        """Staging dirs left by killed writers are garbage after a day."""
        cutoff = time.time() - _STALE_TMP_SECONDS
        for item in self.tmp.iterdir():
            try:
                if item.stat().st_mtime < cutoff:
                    shutil.rmtree(item, ignore_errors=True)
            except FileNotFoundError:
                continue


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
