"""`riffroom serve` serves the built web app at / while every API route keeps winning."""

from __future__ import annotations

from pathlib import Path

from tests.api.harness import run_server


def test_built_web_app_is_served_at_root(tmp_path: Path) -> None:
    web = tmp_path / "dist"
    (web / "assets").mkdir(parents=True)
    (web / "index.html").write_text('<!doctype html><div id="root"></div>')
    (web / "assets" / "app.js").write_text("console.log('riffroom')")
    with run_server(tmp_path / "srv", workers=0, web_dir=str(web)) as srv, srv.client() as c:
        assert 'id="root"' in c.get("/").text
        assert c.get("/assets/app.js").headers["content-type"].startswith(("text/javascript", "application/javascript"))
        assert c.get("/health/live").json() == {"status": "ok"}
        missing = c.get("/api/nothing-here")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
        assert c.get("/../../etc/passwd").status_code == 404
