"""Every error leaves the API as `{"error": {"code", "message"}}` with a message a person understands."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from riffroom.api.faults import fault_response
from riffroom.errors import BadInputError, ModelUnavailableError, RiffRoomError, StorageFullError
from riffroom.storage.unavailable import transient_errors

log = logging.getLogger("riffroom.api")

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media",
    422: "invalid_request",
    429: "too_many_requests",
    503: "unavailable",
    507: "insufficient_storage",
}

# BadInputError codes that are not plain 422s.
_BAD_INPUT_STATUS = {"unsupported_media": 415, "too_large": 413}


class ApiError(Exception):
    """Raise from a route to answer with `status` and the standard error body."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra
        self.headers = headers


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status_code=status, headers=headers)


def riffroom_status(exc: RiffRoomError) -> int:
    if isinstance(exc, BadInputError):
        return _BAD_INPUT_STATUS.get(exc.code, 422)
    if isinstance(exc, ModelUnavailableError):
        return 409
    if isinstance(exc, StorageFullError):
        return 507
    return 500


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_req: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, headers=exc.headers, **exc.extra)

    @app.exception_handler(RiffRoomError)
    async def _riffroom_error(_req: Request, exc: RiffRoomError) -> JSONResponse:
        return error_response(riffroom_status(exc), exc.code, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for err in exc.errors()[:5]:
            where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
            parts.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
        return error_response(422, "invalid_request", "; ".join(parts) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return error_response(exc.status_code, code, message, headers=getattr(exc, "headers", None))

    async def _infrastructure(req: Request, exc: Exception) -> JSONResponse:
        """A full disk, a locked database or a lost connection: 507 or 503, else the 500 below."""
        answer = fault_response(exc)
        if answer is not None:
            return answer
        return await _unexpected(req, exc)

    from sqlalchemy.exc import SQLAlchemyError

    for kind in (OSError, SQLAlchemyError, *transient_errors()):
        app.add_exception_handler(kind, _infrastructure)

    @app.exception_handler(Exception)
    async def _unexpected(req: Request, exc: Exception) -> JSONResponse:
        answer = fault_response(exc)
        if answer is not None:
            return answer
        log.exception("unhandled error on %s %s", req.method, req.url.path)
        return error_response(500, "internal", "internal server error; see the server log")
