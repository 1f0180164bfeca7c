"""Liveness (no I/O) and readiness (database, workers, free disk). Neither walks the cache."""

from __future__ import annotations

import shutil

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool

from riffroom.api.context import ServerContext
from riffroom.api.deps import CtxDep
from riffroom.api.schemas import LiveOut, ReadyChecks, ReadyOut

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live", response_model=LiveOut)
async def live() -> LiveOut:
    return LiveOut(status="ok")


def _checks(ctx: ServerContext) -> tuple[bool, ReadyChecks]:
    ok = True
    try:
        ctx.db.ping()
        database = "ok"
    except Exception as exc:
        ok = False
        database = f"error: {type(exc).__name__}"
    hub = ctx.hub
    workers = ctx.queue.status()
    if workers.get("required", True) and workers.get("alive", 0) < min(1, workers.get("wanted", 0)):
        ok = False
    free = shutil.disk_usage(ctx.settings.data_dir).free
    disk = None
    if free < ctx.settings.min_free_disk_bytes:
        ok = False
        disk = f"free space below the {ctx.settings.min_free_disk_bytes} byte floor"
    checks = ReadyChecks(
        database=database,
        websockets=len(hub.connections) if hub is not None else 0,
        workers=workers,
        free_disk_bytes=free,
        disk=disk,
    )
    return ok, checks


@router.get(
    "/ready",
    response_model=ReadyOut,
    response_model_exclude_none=True,  # `disk` appears only when it is the problem
    responses={503: {"model": ReadyOut, "description": "not ready: see `checks`"}},
)
async def ready(ctx: CtxDep, response: Response) -> ReadyOut:
    ok, checks = await run_in_threadpool(_checks, ctx)
    response.status_code = 200 if ok else 503
    return ReadyOut(status="ready" if ok else "not_ready", checks=checks)
