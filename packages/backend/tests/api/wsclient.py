"""WebSocket test clients: a normal one (websockets' sync client) and a raw one that never reads."""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
from typing import Any

from websockets.sync.client import ClientConnection, connect
from websockets.sync.connection import Connection


def ws_connect(url: str, **kw: Any) -> ClientConnection:
    return connect(url, open_timeout=10, max_size=2**22, **kw)


# The helpers take the base class: `with ws_connect(...) as ws` gives a `Connection`
# (websockets types `__enter__` on it), not the `ClientConnection` that `connect` returns.
def recv_json(ws: Connection, timeout: float = 30.0, skip_pings: bool = True) -> dict[str, Any]:
    while True:
        msg = json.loads(ws.recv(timeout=timeout))
        if skip_pings and msg.get("type") == "ping":
            ws.send(json.dumps({"type": "pong"}))
            continue
        return msg  # type: ignore[no-any-return]


def collect_until_final(ws: Connection, job_id: str, timeout: float = 120.0) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while True:
        msg = recv_json(ws, timeout=timeout)
        out.append(msg)
        if msg.get("type") in ("done", "failed", "cancelled") and msg.get("job_id") == job_id:
            return out


class RawWebSocket:
    """Handshake by hand, then only ever write: models a client that never reads."""

    def __init__(self, host: str, port: int, path: str = "/api/ws", origin: str | None = None) -> None:
        self.sock = socket.create_connection((host, port))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        key = base64.b64encode(os.urandom(16)).decode()
        head = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        )
        if origin:
            head += f"Origin: {origin}\r\n"
        self.sock.sendall((head + "\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.sock.recv(1)
            if not chunk:
                break
            data += chunk
        self.status = int(data.split(b" ", 2)[1]) if data else 0

    def send_text(self, text: str) -> None:
        payload = text.encode()
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            header = struct.pack("!BB", 0x81, 0x80 | n)
        elif n < 65536:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def close(self) -> None:
        self.sock.close()
