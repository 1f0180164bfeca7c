"""Scale-out queue backend: Dramatiq on Redis. Messages carry job ids only; state is in the database.

The API nodes only send (`DramatiqJobQueue.enqueue`); `riffroom worker` (`DramatiqWorkerHost`)
supervises the worker subprocesses and announces itself in Redis; each subprocess
(`DramatiqJobConsumer`) runs one Dramatiq worker thread with prefetch 1 and hands every id to the
same `runner.run_job` the embedded workers use. Dramatiq's defaults that fight long jobs are off:
no TimeLimit middleware (our supervisor kills a job past its timeout, even inside torch kernels
that hold no GIL), `max_retries=0` (a lost job comes back from its expired lease, not a retry).
A message delivered twice is harmless: `store.claim` leases only a job that is still queued.
A message Redis lost (a restart without persistence) is sent again by the worker hosts'
`LostMessageSweeper` (jobs/lost_messages.py).
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from riffroom.config import Settings
from riffroom.jobs import store
from riffroom.jobs.patience import patiently
from riffroom.jobs.runner import WorkerContext, run_job
from riffroom.storage.db import Database

log = logging.getLogger("riffroom.dramatiq")
ACTOR_NAME = "riffroom_separate"
NAMESPACE = "riffroom"  # the prefix of every Redis key the broker uses
_context: WorkerContext | None = None  # set in worker processes by DramatiqJobConsumer.consume()


def make_broker(settings: Settings) -> Any:
    from dramatiq.brokers.redis import RedisBroker
    from dramatiq.middleware import AgeLimit, Callbacks, Pipelines, Retries, ShutdownNotifications

    middleware = [AgeLimit(), ShutdownNotifications(), Callbacks(), Pipelines(), Retries(max_retries=0)]
    return RedisBroker(  # type: ignore[no-untyped-call]  # dramatiq ships no annotations here
        url=settings.queue_url, middleware=middleware, namespace=NAMESPACE
    )


def declare_actor(broker: Any, settings: Settings) -> Any:
    import dramatiq

    return dramatiq.Actor(
        _perform,
        broker=broker,
        actor_name=ACTOR_NAME,
        queue_name=settings.queue_name,
        priority=0,
        options={"max_retries": 0},
    )


def _perform(job_id: str) -> None:
    ctx = _context
    if ctx is None:
        raise RuntimeError("this process does not run jobs (start `riffroom worker`)")
    job = patiently(
        lambda: store.claim(ctx.db, job_id, ctx.worker_id, ctx.settings.lease_seconds), what=f"claiming job {job_id}"
    )
    if job is None:
        log.info("job %s is no longer queued; message dropped", job_id)
        return
    run_job(job_id, ctx)


class DramatiqJobQueue:
    """The API node's side: send job ids. Workers are `riffroom worker` processes on any host."""

    def __init__(self, settings: Settings) -> None:
        import redis

        self.settings = settings
        self.broker = make_broker(settings)
        self.actor = declare_actor(self.broker, settings)
        self._lock = threading.Lock()
        self.redis_client = redis.Redis.from_url(settings.queue_url, socket_timeout=2, socket_connect_timeout=2)

    def start(self) -> None:
        pass

    def stop(self) -> None:
        self.broker.close()
        self.redis_client.close()

    def enqueue(self, job_id: str) -> None:
        with self._lock:  # one Redis connection pool, but keep sends ordered per node
            self.actor.send(job_id)

    def status(self) -> dict[str, Any]:
        """The worker hosts' own reports (jobs/presence.py). An API node stays ready without any:
        it still serves songs and cached stems, and separations wait in the queue."""
        import redis

        from riffroom.jobs.presence import worker_hosts

        status: dict[str, Any] = {"backend": "dramatiq", "required": False}
        try:
            hosts = worker_hosts(self.redis_client)
        except redis.RedisError as exc:
            return {**status, "alive": 0, "wanted": 0, "hosts": [], "error": f"Redis: {type(exc).__name__}"}
        status.update(
            alive=sum(h.get("alive", 0) for h in hosts), wanted=sum(h.get("wanted", 0) for h in hosts), hosts=hosts
        )
        if not hosts:
            status["note"] = "no `riffroom worker` host is running: separations wait in the queue"
        return status


class DramatiqJobConsumer:
    """A worker process's side: one Dramatiq worker thread, one job at a time."""

    def consume(self, ctx: WorkerContext) -> None:
        """Run jobs from the queue in this process until `ctx.shutdown` is set or the parent is gone."""
        from dramatiq import Worker

        global _context
        broker = make_broker(ctx.settings)
        actor = declare_actor(broker, ctx.settings)
        ctx.on_requeue = actor.send
        _context = ctx
        poll_ms = max(10, int(ctx.settings.queue_poll_seconds * 1000))
        worker = Worker(broker, worker_threads=1, worker_timeout=poll_ms)
        worker.queue_prefetch = 1  # one job at a time: never hold a second id another worker could run
        worker.start()
        parent = os.getppid()
        try:
            while not ctx.shutdown.wait(0.5):
                if os.getppid() != parent:
                    break
        finally:
            ctx.shutdown.set()
            worker.stop(timeout=int(ctx.settings.cancel_grace_seconds * 1000))
            broker.close()


class DramatiqWorkerHost:
    """`riffroom worker`: this host's supervised worker processes, announced in Redis so the API
    nodes' readiness check sees them (jobs/presence.py). A lease no host renews is taken back by
    any host's supervisor, and re-queued jobs are sent to the queue again; so are queued jobs
    whose message the broker lost."""

    def __init__(self, settings: Settings, db: Database) -> None:
        from riffroom.jobs.lost_messages import LostMessageSweeper
        from riffroom.jobs.presence import WorkerPresence
        from riffroom.jobs.supervisor import Supervisor

        self.queue = DramatiqJobQueue(settings)
        self.supervisor = Supervisor(settings, db, cluster=True, on_requeue=self.queue.enqueue)
        self.node = self.supervisor.node
        self.presence = WorkerPresence(
            settings.queue_url, self.node, self.supervisor.status, settings.worker_presence_seconds
        )
        self.sweeper = LostMessageSweeper(
            db, self.queue.redis_client, namespace=NAMESPACE, queue_name=settings.queue_name, send=self.queue.enqueue
        )

    def start(self) -> None:
        self.supervisor.start()
        self.presence.start()
        self.sweeper.start()

    def stop(self) -> None:
        self.sweeper.stop()
        self.presence.stop()
        self.supervisor.stop()
        self.queue.stop()
