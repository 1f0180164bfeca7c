"""Alembic environment: runs on the connection `storage/migrate.py` hands over (already locked)."""

from __future__ import annotations

from alembic import context

from riffroom.storage import auth_models, band_models, practice_models  # noqa: F401  (register their tables on Base)
from riffroom.storage.models import Base

try:  # accounts' tables live in their own module; import it so autogenerate sees them
    import riffroom.storage.auth_models  # noqa: F401
except ImportError:
    pass

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through riffroom.storage.migrate (Database.migrate()), not the alembic CLI")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
