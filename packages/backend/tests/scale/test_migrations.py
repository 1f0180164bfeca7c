"""Alembic migrations create exactly the models' schema, on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from riffroom.storage.db import Database
from riffroom.storage.models import Base
from sqlalchemy import inspect, text

try:  # accounts' tables (if present) must come with a migration too
    import riffroom.storage.auth_models  # noqa: F401
except ImportError:
    pass


# Columns that revisions after 0001 add.
AFTER_BASELINE = {"jobs": ("engine_used", "model_used", "ready_seconds", "listening_at")}


def _diff(db: Database) -> list[object]:
    with db.write_engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, Base.metadata))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'm.db'}"
    return str(request.getfixturevalue("postgres_url"))


def test_upgrade_head_creates_every_model_table(db_url: str) -> None:
    db = Database(db_url)
    db.migrate()
    tables = set(inspect(db.write_engine).get_table_names())
    assert set(Base.metadata.tables) <= tables, "a model table has no migration"
    assert _diff(db) == [], "the models and the migrations differ: add a migration (storage/migrate.py revision)"
    db.migrate()  # idempotent
    db.dispose()


def test_partial_unique_index_exists_after_migration(db_url: str) -> None:
    db = Database(db_url)
    db.migrate()
    indexes = {ix["name"]: ix for ix in inspect(db.write_engine).get_indexes("jobs")}
    assert indexes["uq_job_active_dedupe"]["unique"]
    db.dispose()


def test_database_made_by_create_all_is_adopted(tmp_path: Path) -> None:
    """A server's database from before migrations is stamped at the baseline, then upgraded."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = Database(url)
    Base.metadata.tables["songs"].create(old.write_engine)
    Base.metadata.tables["jobs"].create(old.write_engine)
    Base.metadata.tables["job_events"].create(old.write_engine)
    with old.write_engine.begin() as conn:  # the baseline's jobs table: without later revisions' columns
        for column in AFTER_BASELINE["jobs"]:
            conn.execute(text(f"ALTER TABLE jobs DROP COLUMN {column}"))
    old.dispose()
    db = Database(url)
    db.migrate()
    assert _diff(db) == []
    db.dispose()


def test_jobs_from_before_engine_used_say_what_ran(db_url: str) -> None:
    """Before 0003 the API stored the engine it had resolved: finished jobs keep it as what ran."""
    from riffroom.storage.migrate import upgrade

    db = Database(db_url)
    upgrade(db, "0002")
    with db.write_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO songs (id, owner_id, sha256, blob_key, size_bytes, name, original_filename, format_name,"
                " duration, sample_rate, channels, created_at)"
                " VALUES ('s1', 'local', 'ab', 'k', 1, 'n', '', '', 1, 1, 2, 0)"
            )
        )
        for job_id, state in (("done1", "done"), ("queued1", "queued")):
            conn.execute(
                text(
                    "INSERT INTO jobs (id, song_id, dedupe_key, engine, model, state, progress, stage, attempts,"
                    " max_attempts, timeout_seconds, seq, created_at, updated_at)"
                    " VALUES (:id, 's1', :id, 'dsp', 'dsp-v6', :state, 0, :state, 0, 3, 60, 0, 0, 0)"
                ),
                {"id": job_id, "state": state},
            )
    db.migrate()
    with db.write_engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT id, engine_used || '/' || model_used FROM jobs")).all())
    assert rows == {"done1": "dsp/dsp-v6", "queued1": None}
    db.dispose()
