"""ASGI middleware run on every HTTP request: refuse cross-site writes, add safe response headers.

A browser sends Origin with every state-changing request; one from a foreign origin (CSRF) gets
403 before any route runs, whether or not login is required (a loopback server is reachable
from any page the browser opens).
"""

from __future__ import annotations

import json
from typing import Any

from riffroom.api.security import origin_allowed

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]


class RequestGuard:
    def __init__(self, app: Any, allowed_origins: list[str]) -> None:
        self.app, self.allowed = app, allowed_origins

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] not in SAFE_METHODS:
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
            if not origin_allowed(headers, self.allowed):
                await _forbidden(send, headers.get("origin", "a cross-site page"))
                return

        async def _send(message: Any) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in names]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, _send)


async def _forbidden(send: Any, origin: str) -> None:
    body = json.dumps(
        {
            "error": {
                "code": "forbidden",
                "message": f"requests from {origin[:100]} are not allowed "
                "(set RIFFROOM_ALLOWED_ORIGINS to allow another site)",
            }
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *SECURITY_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
