"""WebSocket connection handling: Origin, caps, heartbeat, slow and vanishing clients."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest
from riffroom.api.ws_messages import ErrorMessage, PingMessage, server_messages
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.api.harness import ServerProcess, run_server, wait_until
from tests.api.wsclient import RawWebSocket, recv_json, ws_connect


@pytest.fixture(scope="module")
def ws_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with run_server(
        tmp_path_factory.mktemp("ws-server"),
        workers=0,
        allowed_origins='["http://allowed.example"]',
        ws_heartbeat_seconds=0.3,
        ws_dead_after_seconds=1.5,
        ws_max_connections_per_client=600,
        ws_queue_size=64,
        ws_send_timeout_seconds=1.0,
        ws_max_message_bytes=4096,
    ) as srv:
        yield srv


def _ws_count(srv: ServerProcess) -> int:
    return int(srv.ready()["checks"]["websockets"])


def test_origin_is_checked_before_accept(ws_server: ServerProcess) -> None:
    with pytest.raises(InvalidStatus) as err:
        ws_connect(ws_server.ws_url, origin="http://evil.example")
    assert err.value.response.status_code == 403
    with ws_connect(ws_server.ws_url, origin="http://allowed.example") as ws:
        ws.send(json.dumps({"type": "subscribe", "jobs": ["0" * 32]}))
        error = server_messages.validate_python(recv_json(ws))
        assert isinstance(error, ErrorMessage) and error.code == "not_found"
    with ws_connect(ws_server.ws_url, origin=ws_server.base_url) as ws:  # same origin
        ws.send(json.dumps({"type": "pong"}))


def test_heartbeat_pings_and_drops_a_silent_peer(ws_server: ServerProcess) -> None:
    with ws_connect(ws_server.ws_url) as ws:
        assert isinstance(server_messages.validate_json(ws.recv(timeout=5)), PingMessage)
        # Answering keeps the connection through several dead-peer periods.
        deadline = time.time() + 3.5
        while time.time() < deadline:
            if isinstance(server_messages.validate_json(ws.recv(timeout=2)), PingMessage):
                ws.send('{"type": "pong"}')
        assert _ws_count(ws_server) == 1
    silent = RawWebSocket("127.0.0.1", ws_server.port)
    assert silent.status == 101
    wait_until(lambda: _ws_count(ws_server) == 1, timeout=5)
    started = time.time()
    wait_until(lambda: _ws_count(ws_server) == 0, timeout=10)
    assert time.time() - started < 5
    silent.close()


def test_client_that_never_reads_cannot_grow_server_memory(ws_server: ServerProcess) -> None:
    rss_before = ws_server.rss()
    raw = RawWebSocket("127.0.0.1", ws_server.port)
    assert raw.status == 101
    ping = json.dumps({"type": "ping"})
    try:
        for _ in range(20000):  # each asks for a reply the client never reads
            raw.send_text(ping)
    except OSError:
        pass  # dropped by the server mid-flood
    wait_until(lambda: _ws_count(ws_server) == 0, timeout=15)
    assert ws_server.rss() - rss_before < 30 * 1024 * 1024
    raw.close()


def test_oversized_message_closes_the_connection(ws_server: ServerProcess) -> None:
    with ws_connect(ws_server.ws_url) as ws:
        ws.send("x" * 10000)
        with pytest.raises(ConnectionClosed):
            for _ in range(10):
                ws.recv(timeout=5)
    wait_until(lambda: _ws_count(ws_server) == 0, timeout=5)


def test_500_connect_disconnect_cycles_leave_zero_connections(ws_server: ServerProcess) -> None:
    for i in range(500):
        if i % 2:
            with ws_connect(ws_server.ws_url) as ws:
                ws.send(json.dumps({"type": "subscribe", "jobs": ["a" * 32]}))
        else:  # vanish without a close frame
            raw = RawWebSocket("127.0.0.1", ws_server.port)
            raw.send_text(json.dumps({"type": "subscribe", "jobs": ["b" * 32]}))
            raw.sock.shutdown(socket.SHUT_RDWR)
            raw.close()
    wait_until(lambda: _ws_count(ws_server) == 0, timeout=20)


def test_connections_per_client_are_capped(tmp_path_factory: pytest.TempPathFactory) -> None:
    with run_server(tmp_path_factory.mktemp("ws-cap"), workers=0, ws_max_connections_per_client=3) as srv:
        conns = [ws_connect(srv.ws_url) for _ in range(3)]
        with pytest.raises(InvalidStatus):
            ws_connect(srv.ws_url)
        conns.pop().close()
        wait_until(lambda: _ws_count(srv) == 2, timeout=5)
        ws_connect(srv.ws_url).close()
        for c in conns:
            c.close()
