"""A TCP proxy on 127.0.0.1 between WebSocket clients and a server that misbehaves like a bad
network: every chunk is held for a random latency, and at random moments (seeded) a connection is
dropped (both sides reset, no close frame) or stalled (its bytes held for a while, both ways).

    with FaultyProxy(srv.port, seed=1, faults=20) as proxy:
        with Follower(lambda: proxy.ws_url) as follower:
            ...
    proxy.counts  # connections, drops, stalls, chunks delayed, bytes

It runs its own asyncio loop in a thread, so the synchronous harness (Follower, httpx) can use it.
"""

from __future__ import annotations

import asyncio
import random
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass


@dataclass(eq=False)  # kept in a set by identity
class _Link:
    """One client connection and its upstream; `stalled_until` holds both directions."""

    number: int
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter
    stalled_until: float = 0.0
    dropped: bool = False

    def drop(self) -> None:
        """Close both sides at once with a reset (SO_LINGER 0): no FIN, no close frame."""
        self.dropped = True
        for writer in (self.client, self.upstream):
            sock = writer.get_extra_info("socket")
            if sock is not None:
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                except OSError:
                    pass
            writer.transport.abort()


@dataclass
class FaultPlan:
    """How badly the network behaves. `faults` drops and stalls are spread over random gaps of
    `gap_seconds`; `drop_share` of them are drops, the rest stalls of `stall_seconds`."""

    faults: int = 10
    gap_seconds: tuple[float, float] = (0.3, 2.0)
    drop_share: float = 0.6
    stall_seconds: tuple[float, float] = (0.5, 3.0)
    latency_ms: tuple[float, float] = (0.0, 40.0)


class FaultyProxy:
    def __init__(
        self,
        upstream_port: int,
        *,
        seed: int,
        faults: int = 10,
        gap_seconds: tuple[float, float] = (0.3, 2.0),
        drop_share: float = 0.6,
        stall_seconds: tuple[float, float] = (0.5, 3.0),
        latency_ms: tuple[float, float] = (0.0, 40.0),
    ) -> None:
        if faults < 0 or not 0.0 <= drop_share <= 1.0:
            raise ValueError("faults must be >= 0 and drop_share within [0, 1]")
        self.upstream_port = upstream_port
        self.plan = FaultPlan(faults, gap_seconds, drop_share, stall_seconds, latency_ms)
        self.counts: Counter[str] = Counter()
        self._fault_rng = random.Random(seed)
        self._latency_rng = random.Random(seed + 1)
        self._links: set[_Link] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="ws-fault-proxy", daemon=True)
        self._server: asyncio.Server | None = None
        self._chaos: asyncio.Task[None] | None = None
        self.port = 0

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/api/ws"

    @property
    def faults_done(self) -> int:
        return self.counts["drops"] + self.counts["stalls"]

    def wait_faults(self, timeout: float) -> bool:
        """Block until every planned fault has been made (True) or `timeout` passed."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.faults_done >= self.plan.faults:
                return True
            time.sleep(0.05)
        return self.faults_done >= self.plan.faults

    def __enter__(self) -> FaultyProxy:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def __exit__(self, *_exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        self._chaos = asyncio.create_task(self._make_faults())

    async def _stop(self) -> None:
        if self._chaos is not None:
            self._chaos.cancel()
        if self._server is not None:
            self._server.close()
        for link in list(self._links):
            link.client.transport.abort()
            link.upstream.transport.abort()
        if self._server is not None:
            await self._server.wait_closed()

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self.counts["connections"] += 1
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            self.counts["upstream refused"] += 1  # the server is restarting: the client retries
            client_writer.transport.abort()
            return
        link = _Link(self.counts["connections"], client_writer, up_writer)
        self._links.add(link)
        try:
            await asyncio.gather(
                self._pump(client_reader, link.upstream, link, "bytes up"),
                self._pump(up_reader, link.client, link, "bytes down"),
            )
        finally:
            self._links.discard(link)
            link.client.transport.abort()
            link.upstream.transport.abort()

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, link: _Link, counter: str
    ) -> None:
        """Copy one direction chunk by chunk, each held for a random latency (order kept)."""
        lo, hi = self.plan.latency_ms
        try:
            while not link.dropped:
                chunk = await reader.read(65536)
                if not chunk:
                    break
                await asyncio.sleep(self._latency_rng.uniform(lo, hi) / 1000.0)
                self.counts["chunks delayed"] += 1
                while (held := link.stalled_until - time.monotonic()) > 0:
                    await asyncio.sleep(held)
                if link.dropped:
                    break
                writer.write(chunk)
                await writer.drain()
                self.counts[counter] += len(chunk)
        except (ConnectionError, OSError):
            pass
        finally:
            # One side ended: end the other too (a half-open WebSocket is of no use to anyone).
            link.client.transport.abort()
            link.upstream.transport.abort()

    async def _make_faults(self) -> None:
        rng = self._fault_rng
        while self.faults_done < self.plan.faults:
            await asyncio.sleep(rng.uniform(*self.plan.gap_seconds))
            live = [link for link in self._links if not link.dropped]
            if not live:
                continue
            link = rng.choice(sorted(live, key=lambda each: each.number))
            if rng.random() < self.plan.drop_share:
                link.drop()
                self.counts["drops"] += 1
            else:
                link.stalled_until = time.monotonic() + rng.uniform(*self.plan.stall_seconds)
                self.counts["stalls"] += 1
