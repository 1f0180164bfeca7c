"""The one cleanup task outlives a failing login re-check: heartbeats go on and the re-check retries."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from riffroom.api.context import ServerContext
from riffroom.api.security import CLOSE_UNAUTHORIZED
from riffroom.api.ws import Connection, EventHub
from riffroom.config import Settings
from sqlalchemy.exc import OperationalError
from starlette.websockets import WebSocketState


class _PeerStandIn:
    """The hub's view of an accepted socket: its state and close(); no network is involved here."""

    def __init__(self) -> None:
        self.client_state = WebSocketState.CONNECTED
        self.closed_with: int | None = None

    async def close(self, code: int = 1000) -> None:
        self.closed_with = code
        self.client_state = WebSocketState.DISCONNECTED


def test_cleanup_survives_a_failing_recheck(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(
        data_dir=tmp_path, ws_heartbeat_seconds=0.1, ws_dead_after_seconds=60.0, ws_access_recheck_seconds=0.1,
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
    assert conn.outbox.messages.count('{"type": "ping"}') >= 2  # heartbeats went on through the failures
    assert conn.closed and peer.closed_with == CLOSE_UNAUTHORIZED  # and the re-check did its job once it could
