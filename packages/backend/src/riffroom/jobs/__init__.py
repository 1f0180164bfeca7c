"""Separation jobs: the JobQueue seam, the local backend (supervised worker subprocesses), the runner."""

from riffroom.jobs.queue import JobQueue, open_job_queue

__all__ = ["JobQueue", "open_job_queue"]
