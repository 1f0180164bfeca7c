"""Alembic migrations create exactly the models' schema, on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from riffroom.storage.db import Database
from riffroom.storage.models import Base
from sqlalchemy import inspect

try:  # accounts' tables (if present) must come with a migration too
    import riffroom.storage.auth_models  # noqa: F401
except ImportError:
    pass


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
    old.dispose()
    db = Database(url)
    db.migrate()
    assert _diff(db) == []
    db.dispose()
