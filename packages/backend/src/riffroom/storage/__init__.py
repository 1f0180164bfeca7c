"""State and bytes: the database (songs, jobs, job events, accounts), the blob store and the stem store.

Nothing is imported here, so the stem store and the blob store load without SQLAlchemy.
"""
