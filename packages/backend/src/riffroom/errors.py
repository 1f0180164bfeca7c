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
