"""State and bytes: the database (songs, jobs, job events, accounts) and the blob store."""

from riffroom.storage import auth_models  # noqa: F401  (registers the account tables on Base)
from riffroom.storage.db import Database
from riffroom.storage.models import Base, Job, JobEvent, JobState, Song

__all__ = ["Base", "Database", "Job", "JobEvent", "JobState", "Song"]
