"""The WebSocket hub in process, where the races are made to happen on purpose: a snapshot is never
overtaken by a live event, and the one cleanup task outlives a failing login re-check. Every frame
the hub sends here is checked against the protocol's `ServerMessage` model."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from riffroom.api.context import ServerContext
from riffroom.api.security import CLOSE_UNAUTHORIZED
from riffroom.api.ws import Connection, EventHub
from riffroom.api.ws_messages import PingMessage, server_messages
from riffroom.config import Settings
from riffroom.jobs import store
from riffroom.storage.models import JobEvent
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from starlette.websockets import WebSocketState

from tests.storage.rows import add_song


class _PeerStandIn:
    """The hub's view of an accepted socket: its state and close(); no network is involved here."""

    def __init__(self) -> None:
        self.client_state = WebSocketState.CONNECTED
        self.closed_with: int | None = None
        self.sent: list[dict[str, object]] = []

    async def send_text(self, text: str) -> None:
        self.sent.append(json.loads(text))

    async def close(self, code: int = 1000) -> None:
        self.closed_with = code
        self.client_state = WebSocketState.DISCONNECTED


def test_cleanup_survives_a_failing_recheck(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(
        data_dir=tmp_path,
        ws_heartbeat_seconds=0.1,
        ws_dead_after_seconds=60.0,
        ws_access_recheck_seconds=0.1,
    )
    hub = EventHub(ServerContext.build(settings))
    real_check = hub._still_valid
    failures = 0

    def flaky_check(users: set[str], sessions: set[str]) -> tuple[set[str], set[str]]:
        nonlocal failures
        if failures < 3:
            failures += 1
            raise OperationalError("SELECT ...", {}, Exception("database is locked"))
        return real_check(users, sessions)

    monkeypatch.setattr(hub, "_still_valid", flaky_check)
    peer = _PeerStandIn()
    conn = Connection(peer, "127.0.0.1", "no-such-user", 16)  # type: ignore[arg-type]
    hub.connections.add(conn)

    async def scenario() -> None:
        task = asyncio.create_task(hub._cleanup_loop())
        try:
            for _ in range(100):
                await asyncio.sleep(0.05)
                if failures == 3 and conn.closed:
                    break
        finally:
            task.cancel()
        assert not task.done() or task.cancelled(), "the cleanup task died"

    asyncio.run(scenario())
    assert failures == 3
    frames = [server_messages.validate_json(text) for text in conn.outbox.messages]
    assert sum(isinstance(f, PingMessage) for f in frames) >= 2  # heartbeats went on through the failures
    assert conn.closed and peer.closed_with == CLOSE_UNAUTHORIZED  # and the re-check did its job once it could


@pytest.mark.parametrize("when", ["after the snapshot was read", "before the snapshot was read"])
def test_a_live_event_never_overtakes_the_snapshot(tmp_path: Path, when: str) -> None:
    """A worker reports progress while the hub reads the snapshot; the bus delivers it mid-read."""
    ctx = ServerContext.build(Settings(data_dir=tmp_path))
    song = add_song(ctx.db, owner="ana")
    job, _ = store.find_or_create(
        ctx.db, song, engine="dsp", model=None, stems=None, max_attempts=3, timeout_seconds=60
    )
    store.claim(ctx.db, job.id, "w1", 30)
    hub = EventHub(ctx)
    real_load = hub._load
    peer = _PeerStandIn()
    conn = Connection(peer, "127.0.0.1", "ana", 64)  # type: ignore[arg-type]

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        hub.add(conn)  # its send loop runs all along, as in the server

        def progress_delivered_by_the_bus() -> None:
            store.report_progress(ctx.db, job.id, "w1", progress=0.5, stage="separating", eta=None)
            with ctx.db.read() as s:
                seq = s.get(type(job), job.id).seq  # type: ignore[union-attr]
                payload = s.scalar(select(JobEvent.payload).where(JobEvent.job_id == job.id, JobEvent.seq == seq))
            assert payload is not None and payload["type"] == "progress"  # what the event bus carries

            async def deliver() -> None:
                hub.dispatch(job.id, seq, "progress", payload)
                await asyncio.sleep(0.05)  # the send loop gets its turn while the snapshot is read

            asyncio.run_coroutine_threadsafe(deliver(), loop).result(timeout=5)

        def racing_load(job_id: str, owner: str, after: int | None):  # type: ignore[no-untyped-def]
            if when == "before the snapshot was read":
                progress_delivered_by_the_bus()
            loaded = real_load(job_id, owner, after)
            if when == "after the snapshot was read":
                progress_delivered_by_the_bus()
            return loaded

        hub._load = racing_load  # type: ignore[method-assign]
        await hub.subscribe(conn, {job.id: None})
        await asyncio.sleep(0.05)
        await hub.remove(conn)

    asyncio.run(scenario())
    sent = peer.sent
    for message in sent:  # raises on a frame the published protocol does not allow
        server_messages.validate_python(message)
    assert sent[0]["type"] == "snapshot", [m["type"] for m in sent]
    seqs = [m["seq"] for m in sent]
    assert seqs == sorted(set(seqs)), seqs  # nothing twice, nothing out of order
    assert sent[-1]["seq"] == 2  # the claim was event 1, the progress event 2: the client has it
    assert conn.outbox.held == {}
