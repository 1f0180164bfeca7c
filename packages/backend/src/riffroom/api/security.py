"""Accounts and credentials: password hashing, users, login sessions, API tokens, Origin checks.

Passwords are hashed with argon2id. Session cookies and API tokens are 32 random bytes; the
database keeps only their SHA-256, so a leaked database opens nothing. A login for a name that
does not exist still verifies a password against a dummy hash, so both cost the same time.

    user = create_user(db, "ana", "correct horse battery")
    token, session = open_session(db, user, ttl=3600)
    principal = principal_for_session(db, token)
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update

from riffroom.config import Settings
from riffroom.errors import RiffRoomError
from riffroom.storage.auth_models import ApiToken, AuthSession, User
from riffroom.storage.db import Database

LOCAL_OWNER = "local"  # the one user of a loopback-only server without accounts
CLOSE_UNAUTHORIZED = 4401  # WebSocket close code for "your login ended": the web app shows the login form
SESSION_COOKIE = "riffroom_session"
TOKEN_PREFIX = "rr_"
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # argon2 cost does not depend on length, but a megabyte body is still silly

_hasher = PasswordHasher()
_dummy_hash: str | None = None


class AccountError(RiffRoomError):
    """A user cannot be added, changed or found; the message says why."""

    code = "account"


@dataclass(frozen=True)
class Principal:
    """Who is asking: a user (by session or API token) or the single local user."""

    user_id: str
    username: str
    session_id: str | None = None
    via: str = "local"  # local | session | token


LOCAL_PRINCIPAL = Principal(LOCAL_OWNER, LOCAL_OWNER)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Constant work whether or not the user exists: a missing user checks a dummy hash."""
    global _dummy_hash
    if stored is None:
        if _dummy_hash is None:
            _dummy_hash = _hasher.hash(secrets.token_hex(16))
        stored = _dummy_hash
        try:
            _hasher.verify(stored, password[:MAX_PASSWORD])
        except (VerificationError, InvalidHashError):
            pass
        return False
    try:
        return bool(_hasher.verify(stored, password[:MAX_PASSWORD]))
    except (VerificationError, InvalidHashError):
        return False


# -- users ----------------------------------------------------------------------------------------
def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"the password must have at most {MAX_PASSWORD} characters")


def create_user(db: Database, username: str, password: str) -> User:
    if not USERNAME.match(username) or username == LOCAL_OWNER:
        raise AccountError(f"{username[:64]!r} is not a valid user name (letters, digits, _ . @ -; at most 64)")
    _check_password(password)
    hashed = hash_password(password)
    with db.write() as s:
        if s.scalar(select(User.id).where(User.username == username)) is not None:
            raise AccountError(f"user {username} already exists")
        user = User(username=username, password_hash=hashed)
        s.add(user)
    return user


def set_password(db: Database, username: str, password: str) -> None:
    _check_password(password)
    hashed = hash_password(password)
    with db.write() as s:
        user = s.scalars(select(User).where(User.username == username)).first()
        if user is None:
            raise AccountError(f"no user {username}")
        user.password_hash = hashed
        s.execute(delete(AuthSession).where(AuthSession.user_id == user.id))  # log out everywhere


def remove_user(db: Database, username: str) -> str:
    """Delete the account, its sessions and tokens; returns its id (its songs are the caller's business)."""
    with db.write() as s:
        user = s.scalars(select(User).where(User.username == username)).first()
        if user is None:
            raise AccountError(f"no user {username}")
        s.execute(delete(AuthSession).where(AuthSession.user_id == user.id))
        s.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
        s.delete(user)
        return user.id


def list_users(db: Database) -> list[User]:
    with db.read() as s:
        return list(s.scalars(select(User).order_by(User.username)))


def user_count(db: Database) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(User)) or 0)


def authenticate(db: Database, username: str, password: str) -> User | None:
    with db.read() as s:
        user = s.scalars(select(User).where(User.username == username[:64])).first()
    ok = verify_password(user.password_hash if user is not None else None, password)
    return user if ok and user is not None else None


# -- sessions and tokens --------------------------------------------------------------------------
def open_session(db: Database, user: User, ttl: float) -> tuple[str, AuthSession]:
    token = secrets.token_urlsafe(32)
    now = time.time()
    with db.write() as s:
        s.execute(delete(AuthSession).where(AuthSession.expires_at < now))  # keep the table small
        row = AuthSession(user_id=user.id, token_hash=hash_token(token), created_at=now, expires_at=now + ttl)
        s.add(row)
    return token, row


def close_session(db: Database, session_id: str) -> None:
    with db.write() as s:
        s.execute(delete(AuthSession).where(AuthSession.id == session_id))


def principal_for_session(db: Database, token: str) -> Principal | None:
    if not token or len(token) > 256:
        return None
    with db.read() as s:
        row = s.execute(
            select(AuthSession.id, User.id, User.username)
            .join(User, User.id == AuthSession.user_id)
            .where(AuthSession.token_hash == hash_token(token), AuthSession.expires_at > time.time())
        ).first()
    return None if row is None else Principal(row[1], row[2], session_id=row[0], via="session")


def create_api_token(db: Database, user_id: str, name: str) -> tuple[str, ApiToken]:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.write() as s:
        row = ApiToken(user_id=user_id, name=name[:100], token_hash=hash_token(token))
        s.add(row)
    return token, row


def principal_for_api_token(db: Database, token: str) -> Principal | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 256:
        return None
    digest = hash_token(token)
    with db.read() as s:
        row = s.execute(
            select(ApiToken.id, User.id, User.username, ApiToken.last_used_at)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash == digest)
        ).first()
    if row is None:
        return None
    now = time.time()
    if row[3] is None or now - row[3] > 60:  # a write per minute at most, not per request
        with db.write() as s:
            s.execute(update(ApiToken).where(ApiToken.id == row[0]).values(last_used_at=now))
    return Principal(row[1], row[2], via="token")


# -- Origin ---------------------------------------------------------------------------------------
def origin_allowed(headers: Mapping[str, str], allowed: list[str]) -> bool:
    """Same origin, or listed in `allowed_origins`. No Origin header: not a browser, allowed."""
    origin = headers.get("origin")
    if origin is None:
        # Browsers send Origin on cross-site requests that change state; Sec-Fetch-Site confirms.
        return headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none", "same-site")
    if origin in allowed or "*" in allowed:
        return True
    host = headers.get("host", "")
    return host != "" and urlsplit(origin).netloc == host


class Accounts:
    """Per-server account state: whether login is required, and the failed-login limiter."""

    USERS_RECHECK_SECONDS = 2.0  # `riffroom users add` on a running loopback server takes effect this fast

    def __init__(self, db: Database, settings: Settings) -> None:
        from riffroom.api.ratelimit import open_login_limiter

        self.db, self.settings = db, settings
        self.limiter = open_login_limiter(settings)
        self._users_exist: tuple[float, bool] = (-1e9, False)

    @property
    def required(self) -> bool:
        """Login is required off loopback, when configured, or as soon as any account exists."""
        if self.settings.auth == "required" or not self.settings.binds_loopback:
            return True
        checked, exist = self._users_exist
        now = time.monotonic()
        if now - checked > self.USERS_RECHECK_SECONDS:
            exist = user_count(self.db) > 0
            self._users_exist = (now, exist)
        return exist

    def principal(self, cookies: Mapping[str, str], headers: Mapping[str, str]) -> Principal | None:
        """Who sent these credentials (a Bearer token wins over the cookie); None when nobody valid."""
        if not self.required:
            return LOCAL_PRINCIPAL
        auth = headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            return principal_for_api_token(self.db, auth[7:].strip())
        token = cookies.get(SESSION_COOKIE)
        return principal_for_session(self.db, token) if token else None
