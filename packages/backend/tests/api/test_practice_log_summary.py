"""The practice log's sums as pure functions: days in the client's time zone, loops, the week."""

from __future__ import annotations

import datetime as dt

from riffroom.api.practice_log import LoggedChunk, summarize

NOW = dt.datetime(2026, 12, 20, 12, 0, tzinfo=dt.UTC).timestamp()


def test_chunks_count_on_the_day_they_started_in_the_clients_time_zone() -> None:
    late = dt.datetime(2026, 12, 19, 23, 30, tzinfo=dt.UTC).timestamp()  # already the 20th in UTC+1
    chunks = [LoggedChunk(late, 600, None, 1.0), LoggedChunk(NOW - 60, 60, None, 1.0)]
    utc = summarize(chunks, now=NOW, days=2)
    assert [(d.date, d.seconds) for d in utc.days] == [("2026-12-19", 600), ("2026-12-20", 60)]
    plus_one = summarize(chunks, now=NOW, days=2, tz_offset_minutes=60)
    assert [(d.date, d.seconds) for d in plus_one.days] == [("2026-12-19", 0), ("2026-12-20", 660)]


def test_loops_keep_their_first_and_best_tempo_and_names() -> None:
    chunks = [
        LoggedChunk(NOW - 300, 120, "b", 0.95),
        LoggedChunk(NOW - 900, 120, "b", 0.7),  # the first, though reported second
        LoggedChunk(NOW - 600, 60, "b", 0.85),
        LoggedChunk(NOW - 500, 30, "gone", 1.0),
    ]
    out = summarize(chunks, now=NOW, days=1, loop_names={"b": "bridge"})
    assert [(t.loop_id, t.name, t.seconds, t.first_tempo, t.best_tempo) for t in out.loops] == [
        ("b", "bridge", 300, 0.7, 0.95),
        ("gone", None, 30, 1.0, 1.0),
    ]


def test_the_week_is_the_last_seven_days_whatever_the_window() -> None:
    chunks = [LoggedChunk(NOW - 3 * 86400, 100, None, 1.0), LoggedChunk(NOW - 8 * 86400, 50, None, 1.0)]
    one_day = summarize(chunks, now=NOW, days=1)
    assert one_day.total_seconds == 0 and one_day.week_seconds == 100
    month = summarize(chunks, now=NOW, days=30)
    assert month.total_seconds == 150 and month.week_seconds == 100 and len(month.days) == 30
