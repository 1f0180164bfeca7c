"""schemathesis against the live OpenAPI schema, logged in: no 5xx, every answer as documented,
and nothing in the server's own log says otherwise (no 5xx access line, no traceback)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from tests.api.accounts import add_user, login, session_cookie
from tests.api.harness import ServerProcess, upload, wait_job

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (?P<level>[A-Z]+) ")  # "%(asctime)s %(levelname)s ..."
# One record per request from api/app.py's AccessLog: "<time> INFO riffroom.access: GET /path 200 1.2ms".
_ACCESS = re.compile(r" riffroom\.access: (?P<method>[A-Z]+) (?P<path>.*) (?P<status>\d+) [0-9.]+ms$")


def log_records(log: str) -> list[str]:
    """The server log as records: a record's first line, and the traceback lines under it."""
    records: list[str] = []
    for line in log.splitlines():
        if _RECORD.match(line) or not records:
            records.append(line)
        else:
            records[-1] += "\n" + line
    return records


def server_failures(log: str) -> tuple[int, list[str]]:
    """(how many requests the access log shows, the records that show the server failing: a 5xx
    answer, an ERROR record, or a traceback from anything the API or a worker let escape)."""
    requests, failures = 0, []
    for record in log_records(log):
        head = _RECORD.match(record)
        access = _ACCESS.search(record.split("\n", 1)[0])
        if access:
            requests += 1
            if int(access["status"]) >= 500:
                failures.append(record)
        elif (head and head["level"] in ("ERROR", "CRITICAL")) or "Traceback (most recent call last)" in record:
            failures.append(record)
    return requests, failures


def test_openapi_schema_holds_under_generated_requests(tmp_path: Path, short_mp3: Path) -> None:
    st = Path(sys.executable).with_name("st")
    if not st.exists() and shutil.which("st") is None:
        pytest.skip("schemathesis is not installed (pip install -e 'packages/backend[test]')")
    srv = ServerProcess(tmp_path, workers=1, auth="required", max_upload_bytes=8 * 1024 * 1024, login_max_failures=1000)
    srv.data_dir.mkdir(parents=True)
    add_user(srv, "ana")
    srv.start()
    try:
        with closing(login(srv, "ana")) as c:  # something real to find: a separated song
            song = upload(c, short_mp3).json()
            job = c.post(f"/api/songs/{song['id']}/separations", json={"engine": "dsp"}).json()
            wait_job(c, job["id"])
            cookie = session_cookie(c)
        cmd = [
            str(st) if st.exists() else "st",
            "run",
            f"{srv.base_url}/openapi.json",
            "--checks",
            CHECKS,
            "--max-examples",
            "6",
            "--seed",
            "1",
            "--phases",
            "examples,coverage,fuzzing",
            "--request-timeout",
            "30",
            "--exclude-path",
            "/api/auth/logout",
            "--header",
            f"Cookie: riffroom_session={cookie}",
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=170, cwd=tmp_path)
        assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
        log = srv.log_path.read_text(errors="replace")  # all of it: srv.log() is only the tail
        requests, failures = server_failures(log)
        assert requests > 100, f"only {requests} access lines: has the log format changed?\n{log[-3000:]}"
        assert not failures, "\n".join(failures[:20]) + "\n" + log[-4000:]
    finally:
        srv.stop()
