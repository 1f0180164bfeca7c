"""The stem store: stems keyed by what went in, published atomically, evicted by last use.

It is the one module that knows where stems lie. Under the cache dir, `objects/<key>/` holds one
float WAV per stem and `manifest.json` (written last); `tmp/` holds entries being written;
`index.sqlite` tracks every entry's size and last use, so budget checks and health probes never
walk the directory. With a remote blob store (S3) a finished entry is also copied to
`stems/<key>/` there (the WAVs, then the manifest, so a manifest means a complete set), and a
host that lacks the entry brings it into its own cache on first lookup. Separation writes stems
into a staging dir and hands it to `publish`; everyone else asks this store. Small files derived
from the stems (the song's analysis) live beside them as sidecars (`put_sidecar`): counted in the
entry's size, evicted with it, and copied to a remote blob store like the stems. A running
separation's finished stretches live under `partial/<run>/` as segments (storage/segments.py,
handed out by `partial()`) until its stems are published; they are outside the budget.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from riffroom.audio.format import SAMPLE_RATE
from riffroom.storage.blobs import BlobStore
from riffroom.storage.segments import PartialStems, sweep
from riffroom.storage.writers import HOST as _HOST
from riffroom.storage.writers import writer_is_dead as _writer_is_dead

if TYPE_CHECKING:
    from riffroom.config import Settings

log = logging.getLogger("riffroom.stems")

FORMAT_VERSION = 1  # bump when the bytes we cache for the same key would change
_MANIFEST = "manifest.json"
_KEY = re.compile(r"^[0-9a-f]{64}$")
_STEM_NAME = re.compile(r"^[a-z0-9_]+$")
_SIDECAR_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}\.json$")
_STALE_TMP_SECONDS = 24 * 3600
_FRESH_PIN_SECONDS = 60.0  # a new entry stays put until its writer has read it
_SHARE_PIN_SECONDS = 600.0  # an entry being copied to the blob store stays put meanwhile


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
        """Every stem of the entry: {name: float WAV}."""
        return {name: _stem_path(self.directory, name) for name in _stem_names(self.manifest)}


class EntryTooLargeError(Exception):
    """An entry bigger than the whole budget is refused rather than evicting everything."""


class StemCache:
    """A byte-budgeted, LRU stem store safe to share between processes, optionally backed by a blob store.

    `blobs` is where other hosts find stems this host published; leave it out where nothing but
    this host's cache matters (the CLI, `separate()` itself)."""

    def __init__(
        self, root: Path, budget_bytes: int, blobs: BlobStore | None = None, *, segment_seconds: float = 4.0
    ) -> None:
        self.root = root
        self.budget_bytes = budget_bytes
        self.blobs = blobs
        self.segment_frames = max(1, round(segment_seconds * SAMPLE_RATE))
        self._objects = root / "objects"
        self._tmp = root / "tmp"
        self._partial = root / "partial"
        self._objects.mkdir(parents=True, exist_ok=True)
        self._tmp.mkdir(parents=True, exist_ok=True)
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

    def _entry_dir(self, key: str) -> Path:
        if not _KEY.match(key):
            raise ValueError(f"invalid stem key {key!r}: expected 64 lowercase hex digits")
        return self._objects / key

    # -- reading ---------------------------------------------------------------------------------
    def lookup(self, key: str, *, pin_seconds: float = 0.0) -> CacheEntry | None:
        """The published entry for `key`, marked as just used (and pinned against eviction).

        An entry this host lacks is brought in from a remote blob store when it is there."""
        entry = self._lookup_here(key, pin_seconds)
        if entry is None and self._fetch(key):
            entry = self._lookup_here(key, pin_seconds)
        return entry

    def is_published(self, key: str) -> bool:
        """Whether `lookup(key)` can find a complete entry, here or in a remote blob store."""
        return (self._entry_dir(key) / _MANIFEST).is_file() or self._published_remotely(key)

    def missing_here(self, keys: Iterable[str]) -> list[str]:
        """Those of `keys` with no entry in this host's cache (anything derived from them is an orphan)."""
        return [key for key in keys if not _KEY.match(key) or not (self._objects / key / _MANIFEST).is_file()]

    def unpin(self, key: str) -> None:
        with self._connect() as db:
            db.execute("UPDATE entries SET pinned_until=0 WHERE key=?", (key,))

    def total_bytes(self) -> int:
        with self._connect() as db:
            return int(db.execute("SELECT COALESCE(SUM(size), 0) FROM entries").fetchone()[0])

    def count(self) -> int:
        with self._connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    def _lookup_here(self, key: str, pin_seconds: float) -> CacheEntry | None:
        directory = self._entry_dir(key)
        manifest_path = directory / _MANIFEST
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

    # -- writing ---------------------------------------------------------------------------------
    def new_staging_dir(self) -> Path:
        """A private directory to write an entry into (one `<stem>.wav` each); nothing there is ever served."""
        self._sweep_stale_tmp()
        path = self._tmp / f"{_HOST}-{os.getpid()}-{uuid.uuid4().hex}"
        path.mkdir()
        return path

    def publish(self, key: str, staging: Path, manifest: dict[str, object]) -> CacheEntry:
        """Make `staging` the entry for `key`: fsync files, write the manifest last, rename atomically."""
        target = self._entry_dir(key)
        size = 0
        for item in staging.iterdir():
            _fsync(item)
            size += item.stat().st_size
        manifest = {**manifest, "size": size, "key": key, "format": FORMAT_VERSION}
        if size > self.budget_bytes:
            raise EntryTooLargeError(f"{size} bytes is more than the whole cache budget ({self.budget_bytes})")
        manifest_tmp = staging / (_MANIFEST + ".part")
        manifest_tmp.write_text(json.dumps(manifest, indent=1))
        _fsync(manifest_tmp)
        manifest_tmp.rename(staging / _MANIFEST)
        _fsync(staging)
        try:
            staging.rename(target)
        except OSError:  # another process published the same key first: theirs is as good
            shutil.rmtree(staging, ignore_errors=True)
        _fsync(self._objects)
        now = time.time()
        with self._connect() as db:
            db.execute(
                "INSERT INTO entries(key, size, last_used, pinned_until) VALUES (?,?,?,?)"
                " ON CONFLICT(key) DO UPDATE SET last_used=excluded.last_used",
                (key, size, now, now + _FRESH_PIN_SECONDS),
            )
        self.evict(keep=key)
        entry = self._lookup_here(key, 0.0)
        assert entry is not None
        return entry

    def share(self, key: str) -> bool:
        """Make `key`'s published entry reachable from every host: copy it to a remote blob store.

        False when there is none, i.e. the API reads this very cache and nothing needed copying.
        A copy already there is left alone; the manifest goes last, so a half copy is never used."""
        if self.blobs is None or not self.blobs.remote:
            return False
        if self._published_remotely(key):
            return True
        entry = self._lookup_here(key, _SHARE_PIN_SECONDS)
        if entry is None:
            raise FileNotFoundError(f"stems {key} are not published on this host: nothing to share")
        for name, path in entry.stems.items():
            self.blobs.upload(_remote_key(key, f"{name}.wav"), path)
        self.blobs.upload(_remote_key(key, _MANIFEST), entry.directory / _MANIFEST)
        log.info("stems %s copied to the blob store", key[:12])
        return True

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
            doomed = self._tmp / f"evict-{key}-{uuid.uuid4().hex[:8]}"
            try:
                (self._objects / key).rename(doomed)
            except OSError:
                continue
            shutil.rmtree(doomed, ignore_errors=True)
        return evicted

    # -- a running separation's finished stretches ---------------------------------------------------
    def partial(self, run_id: str) -> PartialStems:
        """The partial data of run `run_id` (a job id): segments while it runs, readable on any host."""
        return PartialStems(self._partial, run_id, self.blobs, self.segment_frames)

    def sweep_partials(self, keep: Iterable[str], *, min_age_seconds: float = 0.0) -> list[str]:
        """Remove this host's partial data of every run but `keep` (runs whose workers died)."""
        return sweep(self._partial, set(keep), min_age_seconds)

    # -- sidecars ----------------------------------------------------------------------------------
    def put_sidecar(self, key: str, name: str, data: bytes) -> bool:
        """Keep `data` as `name` beside the stems of `key`'s published entry (e.g. its analysis).

        Written atomically (temporary name, fsync, rename), added to the entry's size in the index,
        and copied to a remote blob store when there is one, so every host finds it. False, with
        nothing written, when this host no longer holds the entry (evicted meanwhile)."""
        directory = self._entry_dir(key)
        _check_sidecar_name(name)
        if not (directory / _MANIFEST).is_file():
            return False
        if not self._write_sidecar_here(directory, name, data):
            return False
        if self.blobs is not None and self.blobs.remote:
            self.blobs.upload(_remote_key(key, name), directory / name)
        return True

    def read_sidecar(self, key: str, name: str) -> bytes | None:
        """The bytes `put_sidecar` kept for `key`: from this host, else from a remote blob store
        (then kept here too, when this host holds the entry); None when there are none."""
        directory = self._entry_dir(key)
        _check_sidecar_name(name)
        try:
            return (directory / name).read_bytes()
        except FileNotFoundError:
            pass
        if self.blobs is None or not self.blobs.remote or not self.blobs.exists(_remote_key(key, name)):
            return None
        with self.blobs.open(_remote_key(key, name)) as fh:
            data = fh.read()
        if (directory / _MANIFEST).is_file():
            self._write_sidecar_here(directory, name, data)
        return data

    def put_song_sidecar(self, sha256: str, name: str, data: bytes) -> None:
        """Keep `data` about a song's content (e.g. its mix stats), on every host; outside the budget."""
        _check_sidecar_name(name)
        target = self._song_dir(sha256) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(f".{name}.{uuid.uuid4().hex[:8]}.part")
        part.write_bytes(data)
        _fsync(part)
        part.rename(target)
        if self.blobs is not None and self.blobs.remote:
            self.blobs.upload(f"song-facts/{sha256}/{name}", target)

    def read_song_sidecar(self, sha256: str, name: str) -> bytes | None:
        """What `put_song_sidecar` kept, from this host or a remote blob store; None when nothing."""
        _check_sidecar_name(name)
        try:
            return (self._song_dir(sha256) / name).read_bytes()
        except FileNotFoundError:
            if self.blobs is None or not self.blobs.remote or not self.blobs.exists(f"song-facts/{sha256}/{name}"):
                return None
        with self.blobs.open(f"song-facts/{sha256}/{name}") as fh:
            return bytes(fh.read())

    def _song_dir(self, sha256: str) -> Path:
        if not _KEY.match(sha256):
            raise ValueError(f"invalid content hash {sha256!r}: expected 64 lowercase hex digits")
        return self.root / "songs" / sha256

    def _write_sidecar_here(self, directory: Path, name: str, data: bytes) -> bool:
        target = directory / name
        part = directory / f".{name}.{uuid.uuid4().hex[:8]}.part"
        try:
            part.write_bytes(data)
            _fsync(part)
            try:
                replaced = target.stat().st_size
            except FileNotFoundError:
                replaced = 0
            part.rename(target)
            _fsync(directory)
        except FileNotFoundError:  # the entry was evicted (its directory renamed away) meanwhile
            part.unlink(missing_ok=True)
            return False
        with self._connect() as db:
            db.execute("UPDATE entries SET size = size + ? WHERE key=?", (len(data) - replaced, directory.name))
        return True

    def _published_remotely(self, key: str) -> bool:
        return self.blobs is not None and self.blobs.remote and self.blobs.exists(_remote_key(key, _MANIFEST))

    def _fetch(self, key: str) -> bool:
        """Download `key`'s entry from a remote blob store into this cache. False when it is not there."""
        if self.blobs is None or not self._published_remotely(key):
            return False
        with self.blobs.open(_remote_key(key, _MANIFEST)) as fh:
            manifest = cast(dict[str, object], json.loads(fh.read()))
        staging = self.new_staging_dir()
        try:
            for name in _stem_names(manifest):
                self.blobs.download(_remote_key(key, f"{name}.wav"), _stem_path(staging, name))
            self.publish(key, staging, {k: v for k, v in manifest.items() if k not in ("size", "key", "format")})
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        log.info("stems %s fetched from the blob store", key[:12])
        return True

    def sweep_dead_writers(self) -> int:
        """Remove the staging dirs of this host's writers that are gone (a SIGKILLed worker's)."""
        removed = 0
        for item in self._tmp.iterdir():
            if _writer_is_dead(item.name):
                shutil.rmtree(item, ignore_errors=True)
                removed += 1
        return removed

    def _sweep_stale_tmp(self) -> None:
        """Staging dirs of dead writers on this host go at once; any other is garbage after a day."""
        cutoff = time.time() - _STALE_TMP_SECONDS
        for item in self._tmp.iterdir():
            try:
                if _writer_is_dead(item.name) or item.stat().st_mtime < cutoff:
                    shutil.rmtree(item, ignore_errors=True)
            except FileNotFoundError:
                continue


def open_stem_store(settings: Settings, blobs: BlobStore | None = None) -> StemCache:
    """The stem store the settings describe; pass the blob store where other hosts must see the stems."""
    return StemCache(
        settings.resolved_cache_dir,
        settings.cache_budget_bytes,
        blobs,
        segment_seconds=settings.partial_segment_seconds,
    )


def stems_beside(stem: Path) -> dict[str, Path]:
    """Every stem of the entry (or of a staging dir the store refused) that holds `stem`.

    A caller that asked for some stems can still reach the others, e.g. to mix a backing track."""
    directory = stem.parent
    manifest_path = directory / _MANIFEST
    if manifest_path.is_file():
        names = _stem_names(json.loads(manifest_path.read_text()))
    else:
        names = sorted(path.stem for path in directory.glob("*.wav"))
    return {name: _stem_path(directory, name) for name in names}


def _stem_names(manifest: dict[str, object]) -> list[str]:
    names = manifest.get("stems")
    if not isinstance(names, list) or not all(isinstance(n, str) and _STEM_NAME.match(n) for n in names):
        raise ValueError(f"a stem manifest lists no valid stems: {names!r}")
    return cast(list[str], names)


def _check_sidecar_name(name: str) -> None:
    if not _SIDECAR_NAME.match(name) or name == _MANIFEST:
        raise ValueError(f"invalid sidecar name {name!r}: expected a lowercase name ending in .json")


def _stem_path(directory: Path, name: str) -> Path:
    return directory / f"{name}.wav"


def _remote_key(key: str, name: str) -> str:
    return f"stems/{key}/{name}"


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
