"""The app factory: `create_app(settings)` builds the API, the WebSocket hub and the job queue.

app = create_app(Settings(data_dir=Path("/srv/riffroom")))
uvicorn.run(app, host="127.0.0.1", port=8000)
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.staticfiles import StaticFiles

from riffroom import __version__
from riffroom.api.context import ServerContext
from riffroom.api.errors import install_error_handlers
from riffroom.api.guard import RequestGuard
from riffroom.api.model_fetch import ModelFetch
from riffroom.api.routes import analysis, auth, bands, health, jobs, media, models, practice, setlists, songs, ws
from riffroom.api.security import Accounts
from riffroom.api.ws import EventHub
from riffroom.api.ws_messages import openapi_components
from riffroom.config import Settings, get_settings

log = logging.getLogger("riffroom.api")
access_log = logging.getLogger("riffroom.access")


class AccessLog:
    """One log line per request: method, path, status, milliseconds."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [0]

        async def _send(message: Any) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, _send)
        finally:
            access_log.info(
                "%s %s %d %.1fms", scope["method"], scope["path"], status[0], (time.perf_counter() - started) * 1000
            )


DERIVED_GC_SECONDS = 600.0
_REPO_WEB_DIST = Path(__file__).resolve().parents[4] / "web" / "dist"  # a source checkout's web build


async def _collect_derived(ctx: ServerContext) -> None:
    """Every few minutes, drop transcodes, peaks and mixes whose stems the cache has evicted."""
    while True:
        await asyncio.sleep(DERIVED_GC_SECONDS)
        try:
            removed = await run_in_threadpool(collect_derived, ctx)
            if removed:
                log.info("removed derived files of %d evicted cache entries", removed)
        except Exception:
            log.exception("collecting derived files failed")


def collect_derived(ctx: ServerContext) -> int:
    """One level of `derived/` (one directory per cache key): never a walk of the cache itself."""
    by_key = {entry.name: entry for entry in ctx.derived_dir.iterdir() if entry.is_dir()}
    orphans = ctx.cache.missing_here(by_key)
    for key in orphans:
        shutil.rmtree(by_key[key], ignore_errors=True)
    return len(orphans)


def publish_ws_messages(app: FastAPI) -> None:
    """Add the WebSocket frames (`ServerMessage`, `ClientMessage`) to the OpenAPI components, which
    list only what HTTP routes use, so the web app's generated types cover /api/ws too."""
    build_schema = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build_schema()  # FastAPI's own, cached on the app; extended once, in place
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for name, part in openapi_components().items():
                if name not in components:
                    components[name] = part
                elif set(components[name].get("properties", {})) != set(part.get("properties", {})):
                    raise RuntimeError(f"two different models are named {name}: rename one")
        return app.openapi_schema or build_schema()

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx = await run_in_threadpool(ServerContext.build, settings)
        app.state.ctx = ctx
        hub = EventHub(ctx)
        app.state.hub = hub
        ctx.hub = hub
        ctx.accounts = Accounts(ctx.db, settings)
        await run_in_threadpool(ctx.queue.start)
        await hub.start()
        gc_task = asyncio.create_task(_collect_derived(ctx), name="riffroom-derived-gc")
        app.state.model_fetch = ModelFetch(settings)
        await run_in_threadpool(app.state.model_fetch.start)  # decides at once; a download runs on a thread
        log.info("RiffRoom %s ready; data in %s", __version__, settings.data_dir)
        try:
            yield
        finally:
            gc_task.cancel()
            await hub.stop()
            await run_in_threadpool(ctx.queue.stop)
            ctx.db.dispose()

    app = FastAPI(
        title="RiffRoom",
        version=__version__,
        description=(
            "Split songs into stems and practise with them. Frames of the WebSocket /api/ws are the "
            "`ServerMessage` and `ClientMessage` schemas."
        ),
        lifespan=lifespan,
    )
    install_error_handlers(app)
    for module in (health, auth, songs, jobs, media, models, analysis, practice, setlists, bands, ws):
        app.include_router(module.router)
    publish_ws_messages(app)
    web_dir = settings.web_dir or _REPO_WEB_DIST
    if (web_dir / "index.html").is_file():  # mounted last: every API route wins over a file
        app.mount("/", StaticFiles(directory=web_dir, html=True), name="web")
    app.add_middleware(RequestGuard, allowed_origins=settings.allowed_origins)
    app.add_middleware(AccessLog)
    return app
