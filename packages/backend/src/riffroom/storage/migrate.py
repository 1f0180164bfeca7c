"""Schema migrations (Alembic) for SQLite and PostgreSQL, safe to run from several nodes at once.

upgrade(db)             # what Database.migrate() does on every server and worker start
revision(db, "add x")   # for developers: autogenerate a migration from the models
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

    from riffroom.storage.db import Database

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001"  # the schema servers created with create_all() before migrations existed
_PG_LOCK_KEY = 0x52494646  # pg_advisory_lock key: one migrator at a time per database


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(db: Database, target: str = "head") -> None:
    from alembic import command

    # Alembic lists every plugin it sets up at INFO: a dozen lines of noise on each start.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    with db.write_engine.connect() as conn:
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK_KEY})
            conn.commit()
        try:
            cfg = alembic_config(conn)
            tables = set(inspect(conn).get_table_names())
            conn.commit()
            if "jobs" in tables and "alembic_version" not in tables:
                command.stamp(cfg, BASELINE)
                conn.commit()
            command.upgrade(cfg, target)
            conn.commit()
        finally:
            if postgres:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
                conn.commit()


def revision(db: Database, message: str) -> None:
    """Autogenerate a new migration from the difference between the models and `db` at head."""
    from alembic import command

    upgrade(db)
    with db.write_engine.connect() as conn:
        command.revision(alembic_config(conn), message=message, autogenerate=True)
        conn.commit()
