"""One place for every setting (RIFFROOM_* environment variables), caps and timeouts included."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def host_cores() -> int:
    """The cores this process may run on (its affinity, not the machine's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "riffroom"


class Settings(BaseSettings):
    """Runtime settings. Every cap has a sane default and a clear error when hit."""

    model_config = SettingsConfigDict(env_prefix="RIFFROOM_", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir)
    model_dir: Path | None = None  # demucs `--repo` layout; None = HuggingFace cache
    cache_dir: Path | None = None  # separation cache; default <data_dir>/cache
    cache_budget_bytes: int = 20 * 1024**3
    # Formats a worker renders as soon as stems exist, so the first play need not wait for them.
    prerender_formats: list[str] = Field(default_factory=lambda: ["flac"])

    # Decoding caps, enforced on decoded samples, never trusted from headers.
    max_duration_seconds: float = 20 * 60.0
    max_file_bytes: int = 200 * 1024**2
    decode_timeout_seconds: float = 300.0

    # Separation
    # The engine of a separation that names none (the web app asks for none; the CLI's --engine default).
    default_engine: Literal["auto", "demucs", "spleeter", "dsp"] = "auto"
    default_model: str = "htdemucs"
    # "auto": `riffroom serve` downloads the default model's weights into the HuggingFace cache in
    # the background on start (jobs meanwhile run on the bundled engines); "never": it does not.
    fetch_models: Literal["auto", "never"] = "auto"
    device: str = "cpu"
    torch_threads: int = 0  # 0 = the engine's default (all cores; 1 per worker when there are several)
    dsp_chunk_seconds: float = 30.0
    # A running separation's finished stretches are kept (and, scaled out, uploaded) in segments
    # this long, so players can read what is ready before the job is done.
    partial_segment_seconds: float = Field(default=4.0, gt=0.0, le=60.0)

    # Server
    host: str = "127.0.0.1"
    port: int = 8000
    # One single-thread worker per core: 2.2x the jobs per hour of one worker on both cores
    # (bench/bench_worker_layout.py, htdemucs, 2 cores); each worker holds its own model.
    workers: int = Field(default_factory=host_cores)
    max_upload_bytes: int = 200 * 1024**2
    job_timeout_factor: float = 6.0  # hard per-job timeout = factor x song length ...
    job_timeout_min_seconds: float = 300.0  # ... but never less than this
    job_max_attempts: int = 3
    lease_seconds: float = 30.0
    cancel_grace_seconds: float = 10.0
    min_free_disk_bytes: int = 512 * 1024**2
    allowed_origins: list[str] = Field(default_factory=list)
    ws_heartbeat_seconds: float = 20.0
    ws_dead_after_seconds: float = 60.0
    ws_max_message_bytes: int = 64 * 1024
    ws_max_connections_per_client: int = 16
    ws_queue_size: int = 256
    ws_access_recheck_seconds: float = 30.0  # how soon a removed user's or ended session's socket closes

    # Server seams and internals; URLs choose the backends.
    database_url: str | None = None  # default sqlite:///<data_dir>/riffroom.db
    # How long a SQLite writer waits for a lock; past it the API answers 503 with Retry-After.
    db_busy_timeout_seconds: float = 30.0
    queue_url: str = "local://"  # local:// = durable jobs in the database, supervised workers
    blob_url: str | None = None  # default file://<data_dir>/blobs
    worker_nice: int = 19  # workers run at the lowest CPU priority (and SCHED_BATCH), below the API
    worker_poll_seconds: float = 0.2
    progress_min_interval_seconds: float = 0.25  # progress events per job are throttled to this
    ws_max_subscriptions: int = 100  # jobs one connection may follow
    ws_send_timeout_seconds: float = 10.0  # a send that takes longer drops the connection
    events_poll_seconds: float = 0.05  # how often the API reads new job events
    max_peaks_points: int = 20000
    max_concurrent_mixes: int = 1
    mixes_kept_per_song: int = 4  # custom mixes kept on disk per song, most recently used first
    web_dir: Path | None = None  # the built web app served at /; default: packages/web/dist when present

    # Scale-out (queue_url=redis://…, database_url=postgresql://…, blob_url=s3://bucket/prefix).
    events_url: str | None = None  # None: Redis pub/sub on queue_url when that is redis://, else local://
    queue_name: str = "riffroom-jobs"  # the Dramatiq queue
    queue_poll_seconds: float = 0.05  # longest idle wait of a Dramatiq consumer before it looks again
    worker_presence_seconds: float = 5.0  # worker hosts re-announce themselves this often (gone after 3x)
    s3_endpoint_url: str | None = None  # MinIO, Ceph, moto...; None = AWS
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None  # None: boto3's usual chain (env, ~/.aws, instance role)
    s3_secret_access_key: str | None = None  # passed to worker subprocesses on stdin, never argv

    # Accounts and limits. "auto": login required when listening on a
    # non-loopback address or once any user exists; "required": always.
    auth: Literal["auto", "required"] = "auto"
    session_ttl_seconds: float = 30 * 24 * 3600.0
    cookie_secure: bool | None = None  # None: Secure when the request came over HTTPS (or X-Forwarded-Proto)
    trust_forwarded_proto: bool = False  # honour X-Forwarded-Proto from a reverse proxy
    login_max_failures: int = 5  # per username (and 4x that per client address) ...
    login_window_seconds: float = 300.0  # ... within this window, then 429 with Retry-After
    quota_songs: int = 500  # per user; 0 = unlimited
    quota_bytes: int = 20 * 1024**3  # uploaded bytes per user; 0 = unlimited
    quota_active_jobs: int = 10  # queued + running separations per user; 0 = unlimited

    # Practice data: a song's saved workspace (mixer, loops, markers, notes) per user.
    practice_state_max_bytes: int = 64 * 1024  # a larger PUT /api/songs/{id}/practice body gets 413

    # Sandbox for ffmpeg/ffprobe on untrusted files: "auto" = bubblewrap when it works, else
    # resource limits only; "rlimit" = limits only; "bwrap" = bubblewrap or refuse.
    sandbox: Literal["auto", "bwrap", "rlimit"] = "auto"
    sandbox_cpu_seconds: int = 600
    sandbox_memory_bytes: int = 2 * 1024**3  # address space of the decoder process
    sandbox_file_bytes: int = 2 * 1024**3  # largest file the decoder may write

    @property
    def binds_loopback(self) -> bool:
        return self.host in ("127.0.0.1", "::1", "localhost") or self.host.startswith("127.")

    @property
    def resolved_cache_dir(self) -> Path:
        return self.cache_dir or (self.data_dir / "cache")

    @property
    def derived_dir(self) -> Path:
        """Transcoded stems, peaks and mixes, keyed by the cache key."""
        return self.data_dir.resolve() / "derived"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir.resolve() / 'riffroom.db'}"

    @property
    def resolved_blob_url(self) -> str:
        return self.blob_url or f"file://{self.data_dir.resolve() / 'blobs'}"


# Set by the supervisor for workers that share the host's cores (one torch thread each): the
# window threads a Demucs job may use while it runs alone (jobs/core_share.py).
WINDOW_THREADS_ENV = "RIFFROOM_WINDOW_THREADS"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
