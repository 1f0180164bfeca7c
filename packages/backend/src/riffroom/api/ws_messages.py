"""The WebSocket /api/ws protocol as pydantic models: the hub builds every frame it sends from
them and parses every frame it receives with them, and the OpenAPI schema publishes them
(`ServerMessage`, `ClientMessage`) so clients generate their types instead of copying them.

Client -> server: subscribe {jobs}, resume {after: {job_id: seq}}, unsubscribe {jobs}, pong, ping.
Server -> client: snapshot {job, seq}; progress {job_id, seq, state, progress, stage, eta_seconds,
ready_seconds, at}; exactly one of done | failed | cancelled {job_id, seq, job, at} (failed also error,
error_code); ping; pong (the answer to a client's ping); error {code, message, job_id?}.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_serializer
from pydantic_core.core_schema import SerializerFunctionWrapHandler

from riffroom.api.schemas import JobOut, JobStateName


def _type_always_sent(schema: dict[str, Any]) -> None:
    """`type` has a default so frames are easy to build, but every frame carries it: the schema
    says so, which keeps it a required discriminator for generated clients."""
    required = schema.setdefault("required", [])
    if "type" not in required:
        required.insert(0, "type")


class _Frame(BaseModel):
    model_config = ConfigDict(json_schema_extra=_type_always_sent)


class _ClientFrame(_Frame):
    """Frames from clients are checked strictly: a seq of "5" or a job id of 5 is a bad message."""

    model_config = ConfigDict(strict=True, json_schema_extra=_type_always_sent)


# -- client -> server ------------------------------------------------------------------------------
class SubscribeMessage(_ClientFrame):
    type: Literal["subscribe"] = "subscribe"
    jobs: list[str] = Field(description="job ids: each answers with a snapshot, then the job's events")


class ResumeMessage(_ClientFrame):
    type: Literal["resume"] = "resume"
    after: dict[str, int] = Field(
        description="job id -> the last seq the client has: the events after it (compacted), or a fresh snapshot"
    )


class UnsubscribeMessage(_ClientFrame):
    type: Literal["unsubscribe"] = "unsubscribe"
    jobs: list[str]


class PongMessage(_ClientFrame):
    """The answer to a ping, in either direction."""

    type: Literal["pong"] = "pong"


class PingMessage(_ClientFrame):
    """The server pings every `ws_heartbeat_seconds`; a client may ping too and gets a pong."""

    type: Literal["ping"] = "ping"


ClientMessage = Annotated[
    SubscribeMessage | ResumeMessage | UnsubscribeMessage | PongMessage | PingMessage, Field(discriminator="type")
]


# -- server -> client ------------------------------------------------------------------------------
class SnapshotMessage(_Frame):
    type: Literal["snapshot"] = "snapshot"
    job: JobOut
    seq: int = Field(description="the job's seq when it was read: later events have higher ones")


class _JobEvent(_Frame):
    job_id: str
    seq: int = Field(description="grows by one per event of this job; never repeats on a connection")
    at: float = Field(description="unix time of the event")


class ProgressMessage(_JobEvent):
    type: Literal["progress"] = "progress"
    state: JobStateName
    progress: float = Field(ge=0.0, le=1.0)
    stage: str
    eta_seconds: float | None
    ready_seconds: float = Field(
        0.0, ge=0.0, description="seconds of every stem that are final and readable now (see JobOut)"
    )


class DoneMessage(_JobEvent):
    type: Literal["done"] = "done"
    job: JobOut


class FailedMessage(_JobEvent):
    type: Literal["failed"] = "failed"
    job: JobOut
    error: str | None
    error_code: str | None


class CancelledMessage(_JobEvent):
    type: Literal["cancelled"] = "cancelled"
    job: JobOut


ErrorCode = Literal["bad_message", "not_found", "too_many_subscriptions"]


class ErrorMessage(_Frame):
    type: Literal["error"] = "error"
    code: ErrorCode
    message: str
    job_id: str | None = Field(None, description="the job a subscribe or resume named, when the error is about one")

    @model_serializer(mode="wrap")
    def _without_missing_job(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if data.get("job_id") is None:
            data.pop("job_id", None)
        return data


JobEventMessage = Annotated[
    ProgressMessage | DoneMessage | FailedMessage | CancelledMessage, Field(discriminator="type")
]
ServerMessage = Annotated[
    SnapshotMessage
    | ProgressMessage
    | DoneMessage
    | FailedMessage
    | CancelledMessage
    | PingMessage
    | PongMessage
    | ErrorMessage,
    Field(discriminator="type"),
]

client_messages: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)
server_messages: TypeAdapter[ServerMessage] = TypeAdapter(ServerMessage)
job_events: TypeAdapter[JobEventMessage] = TypeAdapter(JobEventMessage)


def frame(message: BaseModel) -> str:
    """The text of one outgoing frame."""
    return message.model_dump_json()


PING_FRAME = frame(PingMessage())
PONG_FRAME = frame(PongMessage())


def openapi_components() -> dict[str, dict[str, Any]]:
    """`ServerMessage`, `ClientMessage` and every model they use, as OpenAPI component schemas."""
    template = "#/components/schemas/{model}"
    components: dict[str, dict[str, Any]] = {}
    for name, adapter in (("ServerMessage", server_messages), ("ClientMessage", client_messages)):
        schema = adapter.json_schema(ref_template=template)
        components.update(schema.pop("$defs", {}))
        components[name] = {"title": name, **schema}
    return components
