"""`GET /api/models`: which engine `auto` runs on this node, the weights download, every model.

The web app polls it while weights download, and offers "separate again with htdemucs" once
they are there. What a worker runs is decided on that worker (`engine_used` on the job); this
is the API node's view, which on a single-machine install is the same.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from riffroom.api.deps import CtxDep, OwnerDep
from riffroom.api.model_fetch import FetchState, ModelFetch
from riffroom.api.schemas import ErrorOut
from riffroom.separation.engines import models

router = APIRouter(prefix="/api/models", tags=["models"])


class ModelFetchOut(BaseModel):
    state: FetchState = Field(description="idle | downloading | done | failed | never")
    model: str = Field(description="the model downloaded on first start (the server's default)")
    fraction: float = Field(description="of its bytes; 1 once done")
    message: str = Field(description="what runs now and how to add weights, in one sentence")


class ModelRow(BaseModel):
    engine: str
    model: str
    stems: list[str]
    available: bool = Field(description="its weights or package are on this node")
    about: str


class ModelsOut(BaseModel):
    auto_engine: str = Field(description='what `auto` runs on this node now: "demucs", "spleeter" or "dsp"')
    default_model: str
    fetch: ModelFetchOut
    models: list[ModelRow]


def _rows(ctx: Any) -> list[ModelRow]:
    return [
        ModelRow(
            engine=row["engine"],
            model=row["model"],
            stems=row["stems"].split(","),
            available=row["weights"] in ("present", "installed", "none needed"),
            about=row["about"],
        )
        for row in models.listing(ctx.settings.model_dir)
        if row["model"] != "demucs_unittest"
    ]


@router.get("", response_model=ModelsOut, responses={401: {"model": ErrorOut}})
async def list_models(request: Request, ctx: CtxDep, _owner: OwnerDep) -> ModelsOut:
    fetch: ModelFetch = request.app.state.model_fetch
    status = await run_in_threadpool(fetch.status)
    rows = await run_in_threadpool(_rows, ctx)
    return ModelsOut(
        auto_engine=status.auto_engine,
        default_model=status.model,
        fetch=ModelFetchOut(
            state=status.state, model=status.model, fraction=round(status.fraction, 4), message=status.message
        ),
        models=rows,
    )
