"""Jobs: read one, cancel one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from riffroom.api.deps import CtxDep, JobDep, ReadableJobDep
from riffroom.api.errors import ApiError
from riffroom.api.schemas import ErrorOut, JobOut
from riffroom.api.views import job_out
from riffroom.jobs import store

router = APIRouter(prefix="/api/jobs", tags=["jobs"])
_ERRORS: dict[int | str, dict[str, Any]] = {c: {"model": ErrorOut} for c in (401, 403, 404)}


@router.get("/{job_id}", response_model=JobOut, responses=_ERRORS)
def get_job(job: ReadableJobDep) -> JobOut:
    return job_out(job)


@router.post("/{job_id}/cancel", response_model=JobOut, status_code=202, responses=_ERRORS)
def cancel_job(job: JobDep, ctx: CtxDep) -> JobOut:
    """Queued jobs stop at once; running ones at their next chunk, or are killed after a grace period."""
    updated = store.request_cancel(ctx.db, job.id)
    if updated is None:
        raise ApiError(404, "not_found", "no such job")
    return job_out(updated)
