"""A small, named hierarchy of errors; each message is one line a person can act on."""

from __future__ import annotations


class RiffRoomError(Exception):
    """Base class: `code` is machine-readable, str(self) is for people."""

    code = "error"


class BadInputError(RiffRoomError):
    """The input file cannot be separated (not audio, truncated, too long, ...)."""

    code = "bad_input"

    def __init__(self, reason: str, *, code: str = "bad_input") -> None:
        super().__init__(reason)
        self.code = code


class CapExceededError(BadInputError):
    """The decoded audio is longer, or the file bigger, than a configured cap."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, code="too_large")


class ModelUnavailableError(RiffRoomError):
    """Weights for a model are not present and cannot be fetched."""

    code = "model_unavailable"


class CancelledError(RiffRoomError):
    """The run was cancelled by its caller."""

    code = "cancelled"


class StorageFullError(RiffRoomError):
    """The disk (or the database file's disk) has no room left; nothing was half-written."""

    code = "insufficient_storage"


DISK_FULL_ERRNOS = frozenset({28, 122})  # ENOSPC, EDQUOT
_SQLITE_FULL_TEXT = "database or disk is full"


def is_disk_full(exc: BaseException) -> bool:
    """True for ENOSPC/EDQUOT and SQLite's SQLITE_FULL, wherever in the exception chain they sit."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in DISK_FULL_ERRNOS:
            return True
        if _SQLITE_FULL_TEXT in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def storage_full(what: str) -> StorageFullError:
    """The one message every out-of-space answer uses, naming what could not be stored."""
    return StorageFullError(f"the server's disk is full: {what} could not be stored; try again once space is freed")
