"""The CI subset of the chaos campaign (bench/chaos runs the full one): one embedded server with
2 workers; 5 worker SIGKILLs at random moments mid-job, 1 server SIGKILL + restart mid-job, the
data disk full once during an upload and a separation, the database locked past busy_timeout once
while a job runs. Then every check in chaos.py must hold."""

from __future__ import annotations

from pathlib import Path

from tests.fixtures.songs import synth_song, write_wav
from tests.reliability.campaign import SERVER_SETTINGS, Faults, embedded_run
from tests.reliability.chaos import undisturbed_reference


def test_chaos_fast_subset_loses_nothing(tmp_path: Path) -> None:
    song = write_wav(tmp_path / "song.wav", synth_song(12.0, seed=11).mixture)
    with undisturbed_reference(tmp_path, **SERVER_SETTINGS) as reference:
        tally = embedded_run(
            tmp_path / "chaos", song, reference, Faults(worker_kills=5, server_kills=1, disk_fills=1, db_locks=1), 1
        )
    report = "\n".join(tally.lines())
    print(report)
    assert tally.faults["worker SIGKILL mid-job"] >= 3, report  # a job can end before its kill lands
    assert tally.faults["server SIGKILL + restart mid-job"] == 1, report
    assert tally.faults["data disk full"] == 1, report
    assert tally.faults["database locked past busy_timeout"] == 1, report
    assert tally.clean, report
