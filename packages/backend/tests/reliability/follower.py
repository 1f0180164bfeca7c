"""A WebSocket client that follows jobs through server restarts and dropped connections the way
the web app does: it reconnects, resumes with the last seq it saw per job, and counts final events.

    with Follower(lambda: srv.ws_url) as f:
        f.follow(job_id)
        ...
    assert f.finals[job_id] == 1
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from websockets.exceptions import ConnectionClosed

from tests.api.wsclient import ws_connect

FINAL_TYPES = ("done", "failed", "cancelled")


class Follower(threading.Thread):
    def __init__(self, ws_url: Callable[[], str]) -> None:
        super().__init__(name="chaos-follower", daemon=True)
        self.ws_url = ws_url
        self.last_seq: dict[str, int] = {}
        self.finals: Counter[str] = Counter()
        self.final_job: dict[str, dict[str, Any]] = {}
        self.reconnects = 0
        self.seq_went_back = 0
        self._pending: list[str] = []
        self._lock = threading.Lock()
        self._halt = threading.Event()

    def follow(self, job_id: str) -> None:
        with self._lock:
            self.last_seq.setdefault(job_id, 0)
            self._pending.append(job_id)

    def wait_finals(self, job_ids: list[str], timeout: float) -> bool:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if all(self.finals[j] >= 1 for j in job_ids):
                return True
            time.sleep(0.05)
        return False

    def __enter__(self) -> Follower:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._halt.set()
        self.join(timeout=10)

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                self._session()
            except (OSError, ConnectionClosed, TimeoutError, ValueError):
                pass
            if not self._halt.is_set():
                self.reconnects += 1
                time.sleep(0.2)

    def _session(self) -> None:
        with ws_connect(self.ws_url()) as ws:
            with self._lock:
                after = {j: s for j, s in self.last_seq.items() if self.finals[j] == 0}
                self._pending.clear()
            if after:
                ws.send(json.dumps({"type": "resume", "after": after}))
            while not self._halt.is_set():
                with self._lock:
                    fresh, self._pending = self._pending, []
                if fresh:
                    ws.send(json.dumps({"type": "subscribe", "jobs": fresh}))
                try:
                    msg = json.loads(ws.recv(timeout=0.2))
                except TimeoutError:
                    continue
                self._handle(ws, msg)

    def _handle(self, ws: Any, msg: dict[str, Any]) -> None:
        kind = msg.get("type")
        if kind == "ping":
            ws.send(json.dumps({"type": "pong"}))
            return
        job_id = msg.get("job_id") or (msg.get("job") or {}).get("id")
        if not job_id or "seq" not in msg:
            return
        with self._lock:
            seq = int(msg["seq"])
            if seq < self.last_seq.get(job_id, 0) and kind != "snapshot":
                self.seq_went_back += 1
            self.last_seq[job_id] = max(seq, self.last_seq.get(job_id, 0))
            if kind in FINAL_TYPES:
                self.finals[job_id] += 1
                self.final_job[job_id] = msg
            elif kind == "snapshot" and msg["job"]["state"] in FINAL_TYPES and self.finals[job_id] == 0:
                # Subscribed after it ended: the snapshot is the final word (the web app reads it so).
                self.finals[job_id] += 1
                self.final_job[job_id] = msg
