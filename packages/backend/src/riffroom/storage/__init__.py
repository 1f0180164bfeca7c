"""State and bytes: the database (songs, jobs, job events) and the blob store."""

from riffroom.storage.db import Database
from riffroom.storage.models import Base, Job, JobEvent, JobState, Song

__all__ = ["Base", "Database", "Job", "JobEvent", "JobState", "Song"]
