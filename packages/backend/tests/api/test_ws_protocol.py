"""The WebSocket frames a real server sends are the ones its OpenAPI schema publishes
(`components.schemas.ServerMessage`, which the web app generates its types from): errors, pings
and a real job's snapshot, progress and final event, checked against the served schema itself."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from riffroom.api.context import ServerContext
from riffroom.api.schemas import JobOut
from riffroom.api.ws_messages import ErrorMessage, client_messages, server_messages
from riffroom.config import Settings
from riffroom.jobs import store
from websockets.sync.client import ClientConnection

from tests.api.harness import ServerProcess, run_server, upload
from tests.api.wsclient import collect_until_final, recv_json, ws_connect
from tests.storage.rows import add_song

MAX_SUBSCRIPTIONS = 2


@pytest.fixture(scope="module")
def protocol_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with run_server(tmp_path_factory.mktemp("ws-protocol"), workers=1, ws_max_subscriptions=MAX_SUBSCRIPTIONS) as srv:
        yield srv


def _published(srv: ServerProcess, name: str) -> jsonschema.Draft202012Validator:
    """A validator for one component of the schema the server serves at /openapi.json."""
    with srv.client() as c:
        components = c.get("/openapi.json").json()["components"]
    assert name in components["schemas"], sorted(components["schemas"])
    schema = {"$ref": f"#/components/schemas/{name}", "components": components}
    return jsonschema.Draft202012Validator(schema)


class _Checked:
    """A WebSocket client that checks every frame it sends against the published `ClientMessage`
    and every frame it receives against the published `ServerMessage` (and the server's model)."""

    def __init__(self, srv: ServerProcess, ws: ClientConnection) -> None:
        self.ws = ws
        self.server_schema = _published(srv, "ServerMessage")
        self.client_schema = _published(srv, "ClientMessage")
        self.received: list[dict[str, Any]] = []

    def send(self, message: dict[str, Any]) -> None:
        self.client_schema.validate(message)
        client_messages.validate_python(message)
        self.ws.send(json.dumps(message))

    def recv(self) -> dict[str, Any]:
        message = recv_json(self.ws)
        self._check(message)
        return message

    def until_final(self, job_id: str) -> list[dict[str, Any]]:
        messages = collect_until_final(self.ws, job_id)
        for message in messages:
            self._check(message)
        return messages

    def _check(self, message: dict[str, Any]) -> None:
        self.server_schema.validate(message)
        server_messages.validate_python(message)
        self.received.append(message)


def _job(srv: ServerProcess, song_file: Path, tmp_path: Path, salt: bytes) -> dict[str, Any]:
    copy = tmp_path / f"{salt.hex()}.mp3"
    copy.write_bytes(song_file.read_bytes() + salt)
    with srv.client() as c:
        song = upload(c, copy).json()
        return c.post(f"/api/songs/{song['id']}/separations", json={"engine": "dsp"}).json()  # type: ignore[no-any-return]


def test_error_frames_match_the_published_schema(protocol_server: ServerProcess) -> None:
    ws = ws_connect(protocol_server.ws_url)
    with ws:
        client = _Checked(protocol_server, ws)
        client.send({"type": "subscribe", "jobs": ["0" * 32, "not-an-id"]})
        for job_id in ("0" * 32, "not-an-id"):
            reply = client.recv()
            assert reply == {"type": "error", "code": "not_found", "message": "no such job", "job_id": job_id}
        client.send({"type": "ping"})
        assert client.recv() == {"type": "pong"}
        for malformed in (
            '{"type": "subscribe", "jobs": "0"}',
            '{"type": "resume", "after": {"job": "5"}}',
            '{"jobs": []}',
            "[1, 2]",
            "not json",
        ):
            ws.send(malformed)
            reply = client.recv()
            assert reply["type"] == "error" and reply["code"] == "bad_message", (malformed, reply)
            assert set(reply) == {"type", "code", "message"}


def test_job_frames_and_the_subscription_cap_match_the_published_schema(
    protocol_server: ServerProcess, short_mp3: Path, tmp_path: Path
) -> None:
    jobs = [_job(protocol_server, short_mp3, tmp_path, bytes([n])) for n in range(MAX_SUBSCRIPTIONS)]
    ws = ws_connect(protocol_server.ws_url)
    with ws:
        client = _Checked(protocol_server, ws)
        client.send({"type": "subscribe", "jobs": [job["id"] for job in jobs]})
        snapshots = [client.recv() for _ in jobs]
        assert [s["type"] for s in snapshots] == ["snapshot"] * len(jobs)
        client.send({"type": "subscribe", "jobs": ["f" * 32]})
        frames: list[dict[str, Any]] = []
        while not any(f["type"] == "error" for f in frames):  # job events may come first
            frames.append(client.recv())
        error = server_messages.validate_python(frames[-1])
        assert isinstance(error, ErrorMessage) and error.code == "too_many_subscriptions"
        assert f"at most {MAX_SUBSCRIPTIONS} jobs" in error.message
        for job in jobs:
            if not any(f.get("job_id") == job["id"] and f["type"] in ("done", "failed", "cancelled") for f in frames):
                frames += client.until_final(job["id"])
    kinds = {f["type"] for f in client.received}
    assert {"snapshot", "progress", "done", "error"} <= kinds, kinds  # each kind was checked at least once
    finals = [f for f in client.received if f["type"] == "done"]
    assert sorted(f["job_id"] for f in finals) == sorted(job["id"] for job in jobs)


def test_every_field_of_the_public_job_is_in_the_schema(tmp_path: Path) -> None:
    """`job_public` feeds both the HTTP answers and the event frames: a field it writes that JobOut
    does not declare would vanish from both without a word."""
    db = ServerContext.build(Settings(data_dir=tmp_path)).db
    song = add_song(db, owner="ana")
    job, _ = store.find_or_create(db, song, engine="dsp", model=None, stems=None, max_attempts=3, timeout_seconds=60)
    assert set(store.job_public(job)) == set(JobOut.model_fields)
