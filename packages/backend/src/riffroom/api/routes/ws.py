"""WebSocket /api/ws: Origin and login checked before accept, connections per client capped."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from riffroom.api import security
from riffroom.api.ws import Connection, EventHub

log = logging.getLogger("riffroom.ws")
router = APIRouter()


def origin_allowed(ws: WebSocket, allowed: list[str]) -> bool:
    return security.origin_allowed(ws.headers, allowed)


@router.websocket("/api/ws")
async def websocket_endpoint(ws: WebSocket) -> None:
    hub: EventHub = ws.app.state.hub
    settings = hub.settings
    client = ws.client.host if ws.client else "unknown"
    if not origin_allowed(ws, settings.allowed_origins):
        log.warning("websocket from %s refused: origin %r not allowed", client, ws.headers.get("origin"))
        await ws.close(code=1008)
        return
    if not hub.admit(client):
        log.warning("websocket from %s refused: over %d connections", client, settings.ws_max_connections_per_client)
        await ws.close(code=1008)
        return
    principal = await asyncio.to_thread(ws.app.state.ctx.accounts.principal, ws.cookies, ws.headers)
    if principal is None:  # closing before accept answers the handshake with 403
        log.info("websocket from %s refused: not logged in", client)
        await ws.close(code=1008)
        return
    await ws.accept()
    conn = Connection(ws, client, principal.user_id, settings.ws_queue_size, session_id=principal.session_id)
    hub.add(conn)
    try:
        while not conn.closed:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            raw = message.get("text")
            if raw is None:
                raw = (message.get("bytes") or b"").decode("utf-8", "replace")
            if len(raw) > settings.ws_max_message_bytes:
                await hub.remove(conn, code=1009)
                break
            await hub.handle(conn, raw)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        await hub.remove(conn)
