"""Live job events over WebSocket: the connection hub and per-connection outboxes; events come from
the event bus seam (`riffroom.events`: the job_events table, or Redis pub/sub).

Protocol: the models in `api/ws_messages.py` (also published in the OpenAPI schema).
    subscribe {jobs: [id, ...]}    -> one `snapshot` per job, then its events
    resume {after: {id: seq, ...}} -> the events after `seq` (compacted to the latest progress and
                                      the final event), or a fresh `snapshot` when they cannot be replayed
    unsubscribe {jobs: [id, ...]}
    pong                           -> answer to the server's ping
Server -> client: snapshot, then progress and exactly one of done | failed | cancelled per job;
ping; error {code, message}.

Per job, `seq` only grows on a connection: an event at or below what a connection already has
is never sent again, so a client that resumes with its last seen numbers gets each final event
exactly once. Each outbox is bounded and keeps only the latest progress per job, so a client
that never reads cannot grow server memory: when its sends stall it is dropped.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from starlette.websockets import WebSocket, WebSocketState

from riffroom.api import access
from riffroom.api.context import ServerContext
from riffroom.api.security import CLOSE_UNAUTHORIZED, LOCAL_OWNER
from riffroom.api.views import job_out
from riffroom.api.ws_messages import (
    PING_FRAME,
    PONG_FRAME,
    ErrorCode,
    ErrorMessage,
    PingMessage,
    PongMessage,
    ResumeMessage,
    SnapshotMessage,
    SubscribeMessage,
    UnsubscribeMessage,
    client_messages,
    frame,
    job_events,
)
from riffroom.api.ws_outbox import Outbox
from riffroom.events import open_event_source
from riffroom.jobs import store as jobs_store
from riffroom.storage.auth_models import AuthSession, User
from riffroom.storage.models import FINAL_STATES, Job, JobEvent

log = logging.getLogger("riffroom.ws")
_ID = re.compile(r"^[0-9a-f]{32}$")


def _event_frame(payload: dict[str, Any]) -> str | None:
    """A job event as the protocol's frame; None (and a loud log) for one that does not fit it."""
    try:
        return frame(job_events.validate_python(payload))
    except ValidationError as exc:
        log.error("job event %r does not match the WebSocket protocol; not sent: %s", payload, exc)
        return None


class Connection:
    def __init__(self, ws: WebSocket, client: str, owner: str, queue_size: int, session_id: str | None = None) -> None:
        self.ws, self.client, self.owner = ws, client, owner
        self.session_id = session_id  # set when the login was a browser session: logout closes this socket
        self.outbox = Outbox(queue_size)
        self.jobs: set[str] = set()
        self.last_seen = time.monotonic()
        self.last_ping = time.monotonic()
        self.sender: asyncio.Task[None] | None = None
        self.closed = False


class EventHub:
    """All live connections, which jobs each follows, the event pump and the one cleanup task."""

    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.connections: set[Connection] = set()
        self.by_job: dict[str, set[Connection]] = {}
        self.per_client: dict[str, int] = {}
        self.source = open_event_source(ctx.settings, ctx.db)
        self._cleanup: asyncio.Task[None] | None = None
        self.events_dispatched = 0

    # -- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        await self.source.start(self.dispatch, self.resync)
        if self._cleanup is None or self._cleanup.done():  # exactly one cleanup task at a time
            self._cleanup = asyncio.create_task(self._cleanup_loop(), name="riffroom-ws-cleanup")

    async def stop(self) -> None:
        await self.source.stop()
        if self._cleanup is not None:
            self._cleanup.cancel()
        for conn in list(self.connections):
            await self.remove(conn, code=1001)

    # -- connections -----------------------------------------------------------------------------
    def admit(self, client: str) -> bool:
        return self.per_client.get(client, 0) < self.settings.ws_max_connections_per_client

    def add(self, conn: Connection) -> None:
        self.connections.add(conn)
        self.per_client[conn.client] = self.per_client.get(conn.client, 0) + 1
        conn.sender = asyncio.create_task(self._send_loop(conn))

    async def remove(self, conn: Connection, code: int = 1000) -> None:
        if conn.closed:
            return
        conn.closed = True
        self.connections.discard(conn)
        left = self.per_client.get(conn.client, 1) - 1
        if left > 0:
            self.per_client[conn.client] = left
        else:
            self.per_client.pop(conn.client, None)
        for job_id in conn.jobs:
            subs = self.by_job.get(job_id)
            if subs is not None:
                subs.discard(conn)
                if not subs:
                    del self.by_job[job_id]
        conn.jobs.clear()
        if conn.sender is not None and conn.sender is not asyncio.current_task():
            conn.sender.cancel()
        if conn.ws.client_state == WebSocketState.CONNECTED:
            try:
                await asyncio.wait_for(conn.ws.close(code), timeout=1.0)
            except Exception:
                pass

    async def _send_loop(self, conn: Connection) -> None:
        timeout = self.settings.ws_send_timeout_seconds
        try:
            while not conn.closed:
                await conn.outbox.ready.wait()
                if conn.outbox.overflowed:
                    log.warning("websocket %s: outbox overflowed; dropping it", conn.client)
                    break
                text = conn.outbox.pop()
                if text is None:
                    continue
                async with asyncio.timeout(timeout):  # unlike wait_for, no extra task per send
                    await conn.ws.send_text(text)
        except asyncio.CancelledError:
            return
        except Exception as exc:  # a failing or stalled send removes the connection at once
            log.info("websocket %s: send failed (%s); dropping it", conn.client, type(exc).__name__)
        await self.remove(conn, code=1011)

    # -- client messages -------------------------------------------------------------------------
    async def handle(self, conn: Connection, raw: str) -> None:
        conn.last_seen = time.monotonic()
        try:
            msg = client_messages.validate_json(raw)
        except ValidationError:
            self._error(conn, "bad_message", "expected subscribe, resume, unsubscribe or pong")
            return
        if isinstance(msg, PongMessage):
            return
        if isinstance(msg, PingMessage):
            conn.outbox.put(PONG_FRAME)
        elif isinstance(msg, SubscribeMessage):
            await self.subscribe(conn, {job_id: None for job_id in msg.jobs})
        elif isinstance(msg, ResumeMessage):
            await self.subscribe(conn, {job_id: seq for job_id, seq in msg.after.items()})
        elif isinstance(msg, UnsubscribeMessage):
            for job_id in msg.jobs:
                conn.jobs.discard(job_id)
                self.by_job.get(job_id, set()).discard(conn)

    def _error(self, conn: Connection, code: ErrorCode, message: str, job_id: str | None = None) -> None:
        conn.outbox.put(frame(ErrorMessage(code=code, message=message, job_id=job_id)))

    async def subscribe(self, conn: Connection, after: dict[str, int | None]) -> None:
        for job_id, seq in after.items():
            if job_id in conn.jobs and seq is None:
                continue
            if not _ID.match(job_id):
                self._error(conn, "not_found", "no such job", job_id=job_id[:64])
                continue
            if len(conn.jobs) >= self.settings.ws_max_subscriptions and job_id not in conn.jobs:
                self._error(
                    conn,
                    "too_many_subscriptions",
                    f"one connection may follow at most {self.settings.ws_max_subscriptions} jobs",
                )
                continue
            # Access first: until then not one event of a job this user may not read reaches this outbox.
            if job_id not in conn.jobs and not await asyncio.to_thread(self._can_read, job_id, conn.owner):
                self._error(conn, "not_found", "no such job", job_id=job_id)
                continue
            if seq is not None:  # anything at or below `seq` the client has: never resend it
                conn.outbox.last_seq[job_id] = max(seq, conn.outbox.last_seq.get(job_id, -1))
            conn.jobs.add(job_id)
            self.by_job.setdefault(job_id, set()).add(conn)  # from now on no event is missed ...
            conn.outbox.hold(job_id)  # ... and none overtakes the snapshot being read
            try:
                job, replay = await asyncio.to_thread(self._load, job_id, conn.owner, seq)
            except BaseException:
                conn.outbox.drop_held(job_id)
                raise
            if conn.closed:
                return
            if job is None:
                conn.outbox.drop_held(job_id)
                conn.jobs.discard(job_id)
                self.by_job.get(job_id, set()).discard(conn)
                self._error(conn, "not_found", "no such job", job_id=job_id)
                continue
            if replay is None:
                snapshot = SnapshotMessage(job=job_out(job), seq=job.seq)
                conn.outbox.put_snapshot(job_id, job.seq, frame(snapshot))
                conn.outbox.release(job_id)
            else:
                frames = ((p["seq"], p["type"], _event_frame(p)) for p in replay)
                conn.outbox.release(job_id, [(seq, kind, text) for seq, kind, text in frames if text is not None])
            if job.state not in FINAL_STATES and (job.listening_at or 0.0) < time.time() - 5.0:
                # Someone follows this job, as a player reading a range does: it goes first in its owner's turn.
                await asyncio.to_thread(jobs_store.mark_listening, self.ctx.db, job.song_id)

    def _can_read(self, job_id: str, user_id: str) -> bool:
        """The job's song is the user's, or shared with a band the user is in (`api/access.py`)."""
        with self.ctx.db.read() as s:
            return access.readable_job(s, job_id, user_id) is not None

    def _load(self, job_id: str, owner: str, after: int | None) -> tuple[Job | None, list[dict[str, Any]] | None]:
        """The job, and the events to replay after `after` (None: send a snapshot instead)."""
        with self.ctx.db.read() as s:
            job = access.readable_job(s, job_id, owner)
            if job is None:
                return None, None
            if after is None or after < 0 or after > job.seq:
                return job, None
            if after == job.seq:
                return job, []
            if job.state in FINAL_STATES:
                final = s.scalar(select(JobEvent.payload).where(JobEvent.job_id == job_id, JobEvent.seq == job.seq))
                return job, ([final] if final is not None else None)
            events = list(
                s.scalars(
                    select(JobEvent.payload)
                    .where(JobEvent.job_id == job_id, JobEvent.seq > after)
                    .order_by(JobEvent.seq)
                )
            )
        if not events or events[0]["seq"] != after + 1:
            return job, None  # a gap we cannot fill: fresh snapshot
        finals = [e for e in events if e["type"] in FINAL_STATES]
        if finals:
            return job, [finals[-1]]
        return job, [events[-1]]

    # -- events from the bus, and cleanup -------------------------------------------------------
    def dispatch(self, job_id: str, seq: int, kind: str, payload: dict[str, Any]) -> None:
        """One job event from the event source, to every connection following the job."""
        subs = self.by_job.get(job_id)
        if not subs:
            return
        text = _event_frame(payload)
        if text is None:
            return
        for conn in list(subs):
            conn.outbox.put_event(job_id, seq, kind, text)
        self.events_dispatched += 1

    async def resync(self) -> None:
        """After a gap in the event stream: re-read every followed job from the database."""
        for conn in list(self.connections):
            after: dict[str, int | None] = {job_id: conn.outbox.last_seq.get(job_id, 0) for job_id in list(conn.jobs)}
            if after and not conn.closed:
                await self.subscribe(conn, after)

    async def _cleanup_loop(self) -> None:
        """Pings every connection each heartbeat; drops peers silent for longer than allowed."""
        beat, dead_after = self.settings.ws_heartbeat_seconds, self.settings.ws_dead_after_seconds
        tick = max(0.05, min(1.0, beat / 2, dead_after / 4))
        recheck = self.settings.ws_access_recheck_seconds
        last_recheck = time.monotonic()
        while True:
            await asyncio.sleep(tick)
            now = time.monotonic()
            if now - last_recheck >= recheck:
                last_recheck = now
                try:
                    await self._drop_revoked()
                    await self.recheck_access()
                except Exception:  # a busy or lost database must not end heartbeats for everyone
                    log.exception("websocket login re-check failed; trying again in %.0f s", recheck)
            for conn in list(self.connections):
                if now - conn.last_seen > dead_after - tick:  # so a dead peer goes within `dead_after`
                    log.info("websocket %s: no answer for %.0f s; dropping it", conn.client, now - conn.last_seen)
                    await self.remove(conn, code=1001)
                elif now - conn.last_ping >= beat:
                    conn.last_ping = now
                    conn.outbox.put(PING_FRAME)

    async def _drop_revoked(self) -> None:
        """Close sockets whose user was removed or whose session ended (logout elsewhere, expiry, CLI)."""
        conns = [c for c in self.connections if c.owner != LOCAL_OWNER]
        if not conns:
            return
        users = {c.owner for c in conns}
        sessions = {c.session_id for c in conns if c.session_id is not None}
        live_users, live_sessions = await asyncio.to_thread(self._still_valid, users, sessions)
        for conn in conns:
            if conn.owner not in live_users or (conn.session_id is not None and conn.session_id not in live_sessions):
                log.info("websocket %s: its login is no longer valid; closing it", conn.client)
                await self.remove(conn, code=CLOSE_UNAUTHORIZED)

    async def recheck_access(self) -> None:
        """End subscriptions to jobs whose song the user may no longer read (removed from the band,
        song unshared or deleted): each ends with `not_found` naming the job, and no later event of
        it is sent. Runs every `ws_access_recheck_seconds`, and at once after a band change here."""
        followed: dict[str, set[str]] = {}
        for conn in self.connections:
            if conn.owner != LOCAL_OWNER and conn.jobs:
                followed.setdefault(conn.owner, set()).update(conn.jobs)
        if not followed:
            return
        lost = await asyncio.to_thread(self._unreadable, followed)
        for conn in list(self.connections):
            for job_id in sorted(lost.get(conn.owner, set()) & conn.jobs):
                conn.jobs.discard(job_id)
                conn.outbox.drop_held(job_id)
                conn.outbox.progress.pop(job_id, None)
                subs = self.by_job.get(job_id)
                if subs is not None:
                    subs.discard(conn)
                    if not subs:
                        del self.by_job[job_id]
                self._error(conn, "not_found", "no such job", job_id=job_id)

    def _unreadable(self, followed: dict[str, set[str]]) -> dict[str, set[str]]:
        with self.ctx.db.read() as s:
            return access.unreadable_jobs(s, followed)

    def _still_valid(self, users: set[str], sessions: set[str]) -> tuple[set[str], set[str]]:
        with self.ctx.db.read() as s:
            live_users = set(s.scalars(select(User.id).where(User.id.in_(users))))
            live_sessions = set(
                s.scalars(
                    select(AuthSession.id).where(AuthSession.id.in_(sessions), AuthSession.expires_at > time.time())
                )
            )
        return live_users, live_sessions
