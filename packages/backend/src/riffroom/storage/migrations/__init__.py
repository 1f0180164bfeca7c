"""Alembic migrations for every table in `Base.metadata`; run by `Database.migrate()`."""
