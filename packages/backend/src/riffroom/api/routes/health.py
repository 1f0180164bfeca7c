"""Liveness (no I/O) and readiness (database, workers, free disk). Neither walks the cache."""

from __future__ import annotations

import shutil
from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from riffroom.api.deps import CtxDep

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live")
async def live() -> dict[str, str]:
    return {"status": "ok"}


def _checks(ctx: Any) -> tuple[bool, dict[str, Any]]:
    checks: dict[str, Any] = {}
    ok = True
    try:
        ctx.db.ping()
        checks["database"] = "ok"
    except Exception as exc:
        ok = False
        checks["database"] = f"error: {type(exc).__name__}"
    hub = getattr(ctx, "hub", None)
    checks["websockets"] = len(hub.connections) if hub is not None else 0
    workers = ctx.queue.status()
    checks["workers"] = workers
    if workers.get("required", True) and workers.get("alive", 0) < min(1, workers.get("wanted", 0)):
        ok = False
    free = shutil.disk_usage(ctx.settings.data_dir).free
    checks["free_disk_bytes"] = free
    if free < ctx.settings.min_free_disk_bytes:
        ok = False
        checks["disk"] = f"free space below the {ctx.settings.min_free_disk_bytes} byte floor"
    return ok, checks


@router.get("/ready")
async def ready(ctx: CtxDep) -> JSONResponse:
    ok, checks = await run_in_threadpool(_checks, ctx)
    return JSONResponse({"status": "ready" if ok else "not_ready", "checks": checks}, status_code=200 if ok else 503)
