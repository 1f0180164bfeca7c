"""run_job(id): one separation job, from a leased row to a published manifest.

Shared by every queue backend. The lease is renewed by a heartbeat thread, which also watches
for a cancel request; separate() checks `cancel` between chunks. Stems are published by the
content cache (temporary name, fsync, rename, manifest last); then the song is analysed (stage
`analyzing`, unless the entry already has an analysis: jobs/analysis_stage.py), and the job's
manifest row is written last, so a failed or cancelled job never leaves anything served. An
analysis error never fails the job. While it separates, every finished stretch is kept as the
job's partial data in the stem store (`ready_seconds` says how far); once the stems are published
the partial data points at them, and it is removed however the job ends.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from riffroom import allocator
from riffroom.config import Settings
from riffroom.errors import CancelledError, RiffRoomError, is_disk_full, storage_full
from riffroom.jobs import store
from riffroom.jobs.analysis_stage import ensure_analysis
from riffroom.jobs.core_share import CoreShare
from riffroom.jobs.patience import patiently, skipped_if_unavailable
from riffroom.storage.blobs import BlobStore
from riffroom.storage.db import Database
from riffroom.storage.models import Job, JobState, Song
from riffroom.storage.segments import PartialStems, wav_frames
from riffroom.storage.stems import open_stem_store

if TYPE_CHECKING:
    from riffroom.audio.probe import AudioInfo

log = logging.getLogger("riffroom.runner")

CANCEL_POLL_SECONDS = 0.5
SEPARATION_SHARE = 0.9  # of the job's progress bar; the analysis has the rest


@dataclass
class WorkerContext:
    settings: Settings
    db: Database
    blobs: BlobStore
    worker_id: str
    shutdown: threading.Event
    # Called with a job id put back in the queue (a push queue must deliver it again).
    on_requeue: Callable[[str], None] | None = None
    # Which of this host's workers run a job now: a lone job uses every core (core_share.py).
    cores: CoreShare = field(init=False)

    def __post_init__(self) -> None:
        self.cores = CoreShare(self.settings.data_dir / "run" / "busy", self.worker_id)
        # A worker loads its engine while it waits for the first job, so that job's first chunk
        # starts as soon as the song is decoded; a job that asks for another engine loads that.
        threading.Thread(target=_load_default_engine, args=(self.settings,), name="engine-load", daemon=True).start()


def _load_default_engine(settings: Settings) -> None:
    try:
        from riffroom.separation.api import separate  # noqa: F401  (the imports of a first job)
        from riffroom.separation.engines import choose, dsp, get_engine  # noqa: F401  (dsp: the fallback)

        choice = choose(settings.default_engine, settings.default_model, settings.model_dir)
        get_engine(
            choice, model_dir=settings.model_dir, device=settings.device, dsp_chunk_seconds=settings.dsp_chunk_seconds
        )
        log.info("engine %s %s loaded", choice.engine, choice.model)
    except Exception:  # the first job that needs it loads it again and reports what is wrong
        log.exception("loading the default engine failed")


class _Heartbeat(threading.Thread):
    """Renews the lease and turns a cancel request (or a lost lease, or shutdown) into a flag."""

    def __init__(self, ctx: WorkerContext, job_id: str) -> None:
        super().__init__(name=f"heartbeat-{job_id}", daemon=True)
        self.ctx, self.job_id = ctx, job_id
        self.cancel = threading.Event()
        self.done = threading.Event()
        self._last_renew = 0.0  # when the lease was last renewed (monotonic)

    def run(self) -> None:
        renew_every = max(0.5, self.ctx.settings.lease_seconds / 3)
        self._last_renew = time.monotonic()
        parent = os.getppid()
        while not self.done.wait(CANCEL_POLL_SECONDS):
            if os.getppid() != parent:  # the server is gone: so is whoever wanted this job
                os._exit(1)
            try:  # a busy database skips a beat (the next one replaces it); nothing kills the heartbeat
                skipped_if_unavailable(lambda: self._beat(renew_every), what=f"heartbeat for job {self.job_id}")
            except Exception:
                log.exception("heartbeat for job %s failed", self.job_id)

    def _beat(self, renew_every: float) -> None:
        ctx = self.ctx
        if ctx.shutdown.is_set() or store.cancel_requested(ctx.db, self.job_id, ctx.worker_id):
            self.cancel.set()
        if time.monotonic() - self._last_renew >= renew_every:
            if not store.heartbeat(ctx.db, self.job_id, ctx.worker_id, ctx.settings.lease_seconds):
                self.cancel.set()
            self._last_renew = time.monotonic()


def _prerender(settings: Settings, key: str, stems: dict[str, Any]) -> None:
    """Transcode fresh stems to the formats the web player asks for (FLAC), before `done` is sent."""
    from riffroom.audio.derived import transcoded

    for fmt in settings.prerender_formats:
        for stem, path in stems.items():
            try:
                transcoded(settings.derived_dir, key, stem, path, fmt)
            except Exception:  # the stem is still served: the API transcodes on first request
                log.exception("pre-rendering %s as %s failed", stem, fmt)


def _probed(song: Song) -> AudioInfo | None:
    """What the upload's probe found (the song's row): the decode need not run ffprobe again."""
    from riffroom.audio.probe import AudioInfo

    if not song.format_name:
        return None
    return AudioInfo(song.format_name, song.duration or None, song.sample_rate, song.channels)


def _song_exists(db: Database, song_id: str) -> bool:
    with db.read() as s:
        return s.get(Song, song_id) is not None


def _release_partial(ctx: WorkerContext, job_id: str, partial: PartialStems) -> None:
    """Remove the job's partial data, unless another worker now runs the job (and writes its own)."""
    try:
        with ctx.db.read() as s:
            job = s.get(Job, job_id)
        if job is not None and job.state == JobState.running.value and job.lease_owner != ctx.worker_id:
            return
        partial.discard()
    except Exception:  # the supervisor or the next attempt removes it instead
        log.exception("could not remove the partial data of job %s", job_id)


def run_job(job_id: str, ctx: WorkerContext) -> None:
    with ctx.db.read() as s:
        job = s.get(Job, job_id)
        song = s.get(Song, job.song_id) if job is not None else None
    if job is None or song is None:
        if job is not None:
            store.fail(ctx.db, job_id, reason="the song was deleted", code="not_found", worker_id=ctx.worker_id)
        return
    beat = _Heartbeat(ctx, job_id)
    beat.start()
    last_report = 0.0
    last_ready = 0.0
    min_interval = ctx.settings.progress_min_interval_seconds
    stem_store = open_stem_store(ctx.settings, ctx.blobs)
    partial = stem_store.partial(job_id)

    def report(
        stage: str, fraction: float, eta: float | None, *, ready: float | None = None, force: bool = False
    ) -> None:
        nonlocal last_report, last_ready
        now = time.monotonic()
        first_ready = ready is not None and ready > 0.0 and last_ready == 0.0  # first sound: at once
        if now - last_report < min_interval and not (force or first_ready):
            return
        last_report = now
        last_ready = max(last_ready, ready or 0.0)
        skipped_if_unavailable(
            lambda: store.report_progress(
                ctx.db, job_id, ctx.worker_id, progress=fraction, stage=stage, eta=eta, ready_seconds=ready
            ),
            what=f"a progress step of job {job_id}",
        )

    def fail(reason: str, code: str) -> None:
        patiently(
            lambda: store.fail(ctx.db, job_id, reason=reason, code=code, worker_id=ctx.worker_id),
            what=f"recording that job {job_id} failed",
        )

    def on_progress(p: Any) -> None:
        if p.stage == "done":  # separated; the job is done once analysed
            return
        eta = None if p.eta_seconds is None else float(p.eta_seconds)
        ready = float(p.ready_seconds)
        report(str(p.stage), SEPARATION_SHARE * float(p.fraction), eta, ready=ready, force=p.fraction >= 1.0)

    def on_analysis(fraction: float) -> None:
        at = SEPARATION_SHARE + (1.0 - SEPARATION_SHARE) * fraction
        report("analyzing", at, None, force=fraction <= 0.0 or fraction >= 1.0)

    kept: list[Any] = []  # the StemSet whose decode the analysis reads: closed however the job ends
    try:
        from riffroom.audio.mix_stats import known_mix_stats, remember_quietly
        from riffroom.separation.api import separate
        from riffroom.separation.engines import choose

        # `auto` becomes an engine here, with this worker's weights; the job row says which.
        choice = choose(job.engine, job.model or ctx.settings.default_model, ctx.settings.model_dir)
        patiently(
            lambda: store.record_engine(ctx.db, job_id, ctx.worker_id, engine=choice.engine, model=choice.model),
            what=f"recording the engine of job {job_id}",
        )
        log.info("job %s runs %s %s (%s)", job_id, choice.engine, choice.model, choice.reason)
        # Stats kept from an earlier decode of this song (same ffmpeg) let the decode stream: first chunk at once.
        known = known_mix_stats(stem_store, song.sha256)
        with ctx.blobs.local_path(song.blob_key) as source, ctx.cores.busy():
            result = separate(
                source,
                engine=choice.engine,
                model=choice.model,
                stems=job.stems,
                progress=on_progress,
                cancel=beat.cancel.is_set,
                settings=ctx.settings,
                sha256=song.sha256,
                partial=partial,
                mix_stats=known,
                keep_decoded=True,
                source_info=_probed(song),
                cores=ctx.cores.cores_now,
                first_window_alone=True,  # the owner may be listening: first seconds first
            )
            kept.append(result)
            if known is None and result.decoded is not None:  # the next job of this song streams
                remember_quietly(stem_store, song.sha256, result.decoded.stats)
            if result._scratch is not None:  # the cache refused it: nothing we could serve later
                result.release()
                fail("the stems are larger than the whole cache budget", "too_large")
                return
            # Other hosts serve these stems: they are copied out first. Otherwise the API reads
            # this very cache, so render what players fetch.
            if not stem_store.share(result.cache_key):
                _prerender(ctx.settings, result.cache_key, result.stems)
            # Ranges are read from the published stems from now on (a cached song: all of it at once).
            every = stem_store.lookup(result.cache_key)
            if every is not None:
                frames = wav_frames(next(iter(result.stems.values())))
                partial.point_to(result.cache_key, list(every.stems), frames)
                report("publishing", SEPARATION_SHARE, None, ready=result.duration, force=True)
            if beat.cancel.is_set():
                raise CancelledError("cancelled after the separation")
            ensure_analysis(
                stem_store,
                result.cache_key,
                source,
                settings=ctx.settings,
                cancel=beat.cancel.is_set,
                progress=on_analysis,
                decoded=result.decoded,
            )
        manifest = {
            "cache_key": result.cache_key,
            "engine": result.engine,
            "model": result.model,
            "stems": sorted(result.stems),
            "duration": result.duration,
            "cached": result.cached,
        }
        if patiently(lambda: store.finish(ctx.db, job_id, ctx.worker_id, manifest), what=f"finishing job {job_id}"):
            log.info("job %s done (cached=%s)", job_id, result.cached)
    except CancelledError:
        if ctx.shutdown.is_set():
            state = patiently(
                lambda: store.requeue(ctx.db, job_id, reason="worker shut down", penalize=False),
                what=f"handing job {job_id} back",
            )
            if state == "queued" and ctx.on_requeue is not None:
                ctx.on_requeue(job_id)
        else:
            patiently(
                lambda: store.mark_cancelled(ctx.db, job_id, worker_id=ctx.worker_id),
                what=f"recording that job {job_id} was cancelled",
            )
    except RiffRoomError as exc:
        fail(str(exc), exc.code)
    except ValueError as exc:  # a request the engine refuses (unknown model or stem)
        fail(str(exc), "bad_request")
    except Exception as exc:
        if is_disk_full(exc):  # the staging dir was removed by separate(): nothing half-written stays
            log.warning("job %s: out of disk space (%s)", job_id, exc)
            fail(str(storage_full("the stems")), "insufficient_storage")
            return
        if not _song_exists(ctx.db, song.id):  # deleted while it ran: its upload went with it
            log.info("job %s stopped: its song was deleted (%s)", job_id, type(exc).__name__)
            fail("the song was deleted", "not_found")
            return
        log.exception("job %s failed unexpectedly", job_id)
        fail(f"internal error: {type(exc).__name__}: {exc}", "internal")
    finally:
        for separated in kept:
            separated.close_decoded()
        beat.done.set()
        beat.join(timeout=5)
        _release_partial(ctx, job_id, partial)
        allocator.purge()  # what jemalloc kept for the next window goes back while the worker waits
