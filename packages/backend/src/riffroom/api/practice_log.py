"""Practice log summaries: time per day and per loop, and the tempo a loop was taken to.

Pure functions over the logged chunks, so the sums are tested without a server. A chunk counts on
the day it started, in the client's time zone offset.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from riffroom.api.practice_schemas import PracticeDay, PracticeLogOut, PracticeLoopTotal

WEEK_SECONDS = 7 * 86400.0


@dataclass(frozen=True)
class LoggedChunk:
    started_at: float
    seconds: float
    loop_id: str | None
    tempo: float


def window_start(now: float, days: int, tz_offset_minutes: int) -> float:
    """Unix time of the start of the first day of a `days`-day window ending today."""
    tz = dt.timezone(dt.timedelta(minutes=tz_offset_minutes))
    today = dt.datetime.fromtimestamp(now, tz).date()
    first = today - dt.timedelta(days=days - 1)
    return dt.datetime(first.year, first.month, first.day, tzinfo=tz).timestamp()


def summarize(
    chunks: Iterable[LoggedChunk],
    *,
    now: float,
    days: int,
    tz_offset_minutes: int = 0,
    loop_names: Mapping[str, str] | None = None,
) -> PracticeLogOut:
    """Totals of the chunks inside the window of `days` days (today included), and of the last 7 days."""
    tz = dt.timezone(dt.timedelta(minutes=tz_offset_minutes))
    start = window_start(now, days, tz_offset_minutes)
    first_day = dt.datetime.fromtimestamp(start, tz).date()
    per_day = {(first_day + dt.timedelta(days=i)).isoformat(): 0.0 for i in range(days)}
    loops: dict[str, list[LoggedChunk]] = {}
    total = week = 0.0
    for chunk in sorted(chunks, key=lambda c: c.started_at):
        if now - WEEK_SECONDS <= chunk.started_at <= now + 300:
            week += chunk.seconds
        if chunk.started_at < start:
            continue
        day = dt.datetime.fromtimestamp(chunk.started_at, tz).date().isoformat()
        if day not in per_day:  # a clock ahead of ours: counted, on the last day
            day = next(reversed(per_day))
        per_day[day] += chunk.seconds
        total += chunk.seconds
        if chunk.loop_id is not None:
            loops.setdefault(chunk.loop_id, []).append(chunk)
    names = loop_names or {}
    loop_totals = [
        PracticeLoopTotal(
            loop_id=loop_id,
            name=names.get(loop_id),
            seconds=round(sum(c.seconds for c in items), 3),
            first_tempo=items[0].tempo,
            best_tempo=max(c.tempo for c in items),
        )
        for loop_id, items in loops.items()
    ]
    loop_totals.sort(key=lambda t: -t.seconds)
    return PracticeLogOut(
        days=[PracticeDay(date=day, seconds=round(seconds, 3)) for day, seconds in per_day.items()],
        loops=loop_totals,
        total_seconds=round(total, 3),
        week_seconds=round(week, 3),
    )
