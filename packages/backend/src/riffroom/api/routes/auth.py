"""Login, logout, who am I, and API tokens for scripts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy import delete, select

from riffroom.api import security
from riffroom.api.deps import CtxDep, PrincipalDep
from riffroom.api.errors import ApiError
from riffroom.api.schemas import ErrorOut
from riffroom.storage.auth_models import ApiToken

router = APIRouter(prefix="/api/auth", tags=["auth"])


class LoginRequest(BaseModel):
    username: str = Field(max_length=200)
    password: str = Field(max_length=security.MAX_PASSWORD)


class UserOut(BaseModel):
    id: str
    username: str


class MeOut(BaseModel):
    auth_required: bool
    user: UserOut | None


class TokenRequest(BaseModel):
    name: str = Field(default="", max_length=100)


class TokenOut(BaseModel):
    id: str
    name: str
    created_at: float
    last_used_at: float | None = None
    token: str | None = None  # only in the answer that creates it


class TokenList(BaseModel):
    tokens: list[TokenOut]


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _is_https(request: Request, ctx: Any) -> bool:
    if ctx.settings.cookie_secure is not None:
        return bool(ctx.settings.cookie_secure)
    if ctx.settings.trust_forwarded_proto and request.headers.get("x-forwarded-proto", "").lower() == "https":
        return True
    return request.url.scheme == "https"


@router.post("/login", response_model=MeOut, responses={c: {"model": ErrorOut} for c in (400, 401, 429)})
async def login(body: LoginRequest, request: Request, response: Response, ctx: CtxDep) -> MeOut:
    """Check the password and set the session cookie (HttpOnly, SameSite=Lax, Secure over HTTPS)."""
    accounts = ctx.accounts
    limit = ctx.settings.login_max_failures
    ip = _client(request)
    user_key = f"user:{body.username[:64].lower()}|{ip}"
    keys = {user_key: limit, f"ip:{ip}": limit * 4}
    wait = await run_in_threadpool(accounts.limiter.retry_after, keys)  # Redis, on several API nodes
    if wait > 0:
        seconds = max(1, int(wait + 0.999))
        raise ApiError(
            429,
            "too_many_requests",
            f"too many failed logins; try again in {seconds} s",
            headers={"Retry-After": str(seconds)},
        )
    user = await run_in_threadpool(security.authenticate, ctx.db, body.username, body.password)
    if user is None:
        await run_in_threadpool(accounts.limiter.failed, keys)
        raise ApiError(401, "invalid_credentials", "wrong user name or password")
    await run_in_threadpool(accounts.limiter.succeeded, user_key)
    token, _row = await run_in_threadpool(security.open_session, ctx.db, user, ctx.settings.session_ttl_seconds)
    response.set_cookie(
        security.SESSION_COOKIE,
        token,
        max_age=int(ctx.settings.session_ttl_seconds),
        path="/",
        httponly=True,
        samesite="lax",
        secure=_is_https(request, ctx),
    )
    return MeOut(auth_required=accounts.required, user=UserOut(id=user.id, username=user.username))


@router.post("/logout", status_code=204, responses={401: {"model": ErrorOut}})
async def logout(request: Request, ctx: CtxDep) -> Response:
    """Revoke this session, close its WebSockets and clear the cookie."""
    principal = await run_in_threadpool(ctx.accounts.principal, request.cookies, request.headers)
    if principal is not None and principal.session_id is not None:
        await run_in_threadpool(security.close_session, ctx.db, principal.session_id)
        hub = ctx.hub
        for conn in list(hub.connections) if hub is not None else []:
            if conn.session_id == principal.session_id:
                await hub.remove(conn, code=security.CLOSE_UNAUTHORIZED)
    response = Response(status_code=204)
    response.delete_cookie(
        security.SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=_is_https(request, ctx)
    )
    return response


@router.get("/me", response_model=MeOut)
def me(request: Request, ctx: CtxDep) -> MeOut:
    """Whether login is required, and who is logged in (null when nobody): the web app's first call."""
    principal = ctx.accounts.principal(request.cookies, request.headers)
    user = None
    if principal is not None and principal.via != "local":
        user = UserOut(id=principal.user_id, username=principal.username)
    return MeOut(auth_required=ctx.accounts.required, user=user)


def _account(principal: security.Principal) -> str:
    if principal.via == "local":
        raise ApiError(409, "conflict", "API tokens need an account: add one with `riffroom users add NAME`")
    return principal.user_id


@router.post(
    "/tokens", response_model=TokenOut, status_code=201, responses={c: {"model": ErrorOut} for c in (400, 401, 409)}
)
def create_token(body: TokenRequest, principal: PrincipalDep, ctx: CtxDep) -> TokenOut:
    """A new API token for scripts (`Authorization: Bearer ...`); shown once, stored hashed."""
    token, row = security.create_api_token(ctx.db, _account(principal), body.name)
    return TokenOut(id=row.id, name=row.name, created_at=row.created_at, token=token)


@router.get("/tokens", response_model=TokenList, responses={401: {"model": ErrorOut}, 409: {"model": ErrorOut}})
def list_tokens(principal: PrincipalDep, ctx: CtxDep) -> TokenList:
    user_id = _account(principal)
    with ctx.db.read() as s:
        rows = s.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.created_at)).all()
    return TokenList(
        tokens=[TokenOut(id=r.id, name=r.name, created_at=r.created_at, last_used_at=r.last_used_at) for r in rows]
    )


@router.delete(
    "/tokens/{token_id}",
    status_code=204,
    responses={401: {"model": ErrorOut}, 404: {"model": ErrorOut}, 409: {"model": ErrorOut}},
)
def revoke_token(token_id: str, principal: PrincipalDep, ctx: CtxDep) -> Response:
    user_id = _account(principal)
    with ctx.db.write() as s:
        gone = s.execute(delete(ApiToken).where(ApiToken.id == token_id[:32], ApiToken.user_id == user_id))
    if not gone.rowcount:  # type: ignore[attr-defined]
        raise ApiError(404, "not_found", "no such token")
    return Response(status_code=204)
