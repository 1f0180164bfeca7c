"""The bounded outbox of one WebSocket connection.

It keeps only the latest progress per job and at most one final event, and can hold a job's live
events while its snapshot is being read, so a live event never overtakes the snapshot it races
with. A client that never reads cannot grow server memory: the hub drops it when sends stall.
"""

from __future__ import annotations

import asyncio
from collections import deque


class Outbox:
    """Bounded queue of outgoing messages that coalesces progress to the latest per job."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.messages: deque[str] = deque()
        self.progress: dict[str, tuple[int, str]] = {}
        self.last_seq: dict[str, int] = {}
        self.ready = asyncio.Event()
        self.overflowed = False
        # Jobs whose snapshot or replay is being read: their live events wait here, so that the
        # snapshot always goes first (at most the latest progress and one final event per job).
        self.held: dict[str, list[tuple[int, str, str]]] = {}

    def __len__(self) -> int:
        return len(self.messages) + len(self.progress)

    def put_event(self, job_id: str, seq: int, kind: str, text: str) -> None:
        held = self.held.get(job_id)
        if held is not None:
            if kind == "progress" and held and held[-1][1] == "progress":
                held[-1] = (seq, kind, text)
            else:
                held.append((seq, kind, text))
            return
        if seq <= self.last_seq.get(job_id, -1):
            return
        self.last_seq[job_id] = seq
        if kind == "progress":
            self.progress[job_id] = (seq, text)
        else:
            self.progress.pop(job_id, None)
            self._append(text)
        self.ready.set()

    def put_snapshot(self, job_id: str, seq: int, text: str) -> None:
        self.last_seq[job_id] = max(seq, self.last_seq.get(job_id, -1))
        pending = self.progress.get(job_id)
        if pending is not None and pending[0] <= seq:
            del self.progress[job_id]
        self._append(text)
        self.ready.set()

    def hold(self, job_id: str) -> None:
        """Keep this job's live events back until `release` (its snapshot is being read)."""
        self.held.setdefault(job_id, [])

    def release(self, job_id: str, replay: list[tuple[int, str, str]] | None = None) -> None:
        """Send the replay, then what was held, minus what the snapshot or replay already covered."""
        held = self.held.pop(job_id, [])
        for seq, kind, text in [*(replay or []), *held]:
            self.put_event(job_id, seq, kind, text)

    def drop_held(self, job_id: str) -> None:
        self.held.pop(job_id, None)

    def put(self, text: str) -> None:
        self._append(text)
        self.ready.set()

    def _append(self, text: str) -> None:
        if len(self.messages) >= self.limit:
            self.overflowed = True
            return
        self.messages.append(text)

    def pop(self) -> str | None:
        if self.messages:
            return self.messages.popleft()
        if self.progress:
            job_id = next(iter(self.progress))
            return self.progress.pop(job_id)[1]
        self.ready.clear()
        return None
