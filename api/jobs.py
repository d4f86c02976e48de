"""Background jobs on huey (https://huey.readthedocs.io): batch signing, B-LTA timestamp
renewal (daily) and e-mail with retries, off the request path.

The queue is huey's SQL storage (peewee) in the service's own database engine: on PostgreSQL the
tables ``ioffice_jobs_*`` of the same database (several workers take tasks with ``FOR UPDATE SKIP
LOCKED``); on the embedded default a ``jobs.db`` SQLite file next to ``ioffice.db`` (queue writes
never wait on the application's write lock). ``ioffice worker`` runs a consumer; ``ioffice serve``
runs one in its own process by default on SQLite (``IOFFICE_JOBS_IN_PROCESS``).

Every process builds one :class:`Jobs` around its container; the task functions close over it.
"""
from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from huey import Huey, crontab
from huey.contrib.sql_huey import SqlStorage

from .container import Container
from .settings import Settings

log = logging.getLogger("ioffice.jobs")
TABLE_PREFIX = "ioffice_jobs_"


class _Storage(SqlStorage):
    """huey's SQL storage with table names of our own (``ioffice_jobs_task``...)."""

    def create_models(self):
        # huey's models (huey.contrib.sql_huey.SqlStorage.create_models) with prefixed table names
        from huey.contrib.sql_huey import BytesBlobField
        from peewee import CharField, CompositeKey, FloatField, IntegerField, Model, TimestampField

        def table_name(model) -> str:
            return TABLE_PREFIX + model.__name__.lower()

        class Base(Model):
            class Meta:
                database = self.database
                table_function = table_name

        class KV(Base):
            queue = CharField()
            key = CharField()
            value = BytesBlobField()

            class Meta:
                primary_key = CompositeKey("queue", "key")

        class Schedule(Base):
            queue = CharField()
            data = BytesBlobField()
            timestamp = TimestampField(resolution=1000)

            class Meta:
                indexes = ((("queue", "timestamp"), False),)

        class Task(Base):
            queue = CharField()
            data = BytesBlobField()
            priority = FloatField(default=0.0)

        Task.add_index(Task.priority.desc(), Task.id)

        class Counter(Base):
            queue = CharField()
            key = CharField()
            value = IntegerField()

            class Meta:
                primary_key = CompositeKey("queue", "key")

        return (KV, Schedule, Task, Counter)


def queue_database(settings: Settings):
    """The peewee database holding the queue."""
    from sqlalchemy.engine import make_url

    url = make_url(settings.jobs_url or settings.db_url)
    if url.get_backend_name() == "sqlite":
        from peewee import SqliteDatabase

        if settings.jobs_url:
            path = Path(url.database or "jobs.db")
        else:
            db = Path(url.database) if url.database and url.database != ":memory:" else None
            path = (db.parent if db else settings.resolved_data_dir) / "jobs.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteDatabase(str(path), pragmas={"journal_mode": "wal", "busy_timeout": 10000}, timeout=10)
    from playhouse.postgres_ext import PooledPsycopg3Database

    # a small pool: request threads borrow a connection to enqueue and give it back at once
    return PooledPsycopg3Database(url.database, host=url.host or "127.0.0.1", port=url.port or 5432,
                                  user=url.username, password=url.password, max_connections=8,
                                  stale_timeout=300, timeout=30)


class Jobs:
    """The job queue of one process: enqueue, run a worker, count what waits."""

    def __init__(self, container: Container) -> None:
        self.container = container
        settings = container.settings
        self.huey = Huey("ioffice", results=False, utc=True, storage_class=_Storage,
                         database=queue_database(settings))
        self._consumer: Any = None
        self._lock = threading.Lock()
        h = self.huey
        self.send_mail = h.task(retries=settings.mail_retries, retry_delay=settings.mail_retry_delay_seconds,
                                name="send_mail")(self._send_mail)
        # a re-run (retry after an unexpected error) skips the documents already done
        self.sign_batch = h.task(name="sign_batch", retries=2, retry_delay=30)(self._sign_batch)
        self.renew_timestamps = h.periodic_task(
            crontab(minute="17", hour=str(settings.timestamp_renewal_hour)), name="renew_timestamps",
            retries=2, retry_delay=600)(self._renew_timestamps)

    # -- tasks ---------------------------------------------------------------------------------
    def _send_mail(self, mail) -> None:
        from .mailer import notifier_from_settings

        notifier = notifier_from_settings(self.container.settings)
        if notifier is not None:
            notifier.send_one(mail)  # raises on failure: huey retries later

    def _sign_batch(self, batch_id: str, user_id: str, level: str | None, client_addr: str | None) -> None:
        from .batch_jobs import run_server_batch

        run_server_batch(self.container, batch_id=batch_id, user_id=user_id, level=level, client_addr=client_addr)

    def _renew_timestamps(self) -> dict:
        return renew_archived_timestamps(self.container)

    # -- queue ---------------------------------------------------------------------------------
    def _released(self, fn, *args):
        """Call ``fn`` and give this thread's queue connection back (request threads are many;
        the queue's connections are few)."""
        try:
            return fn(*args)
        finally:
            self.huey.storage.database.close()  # never called from the consumer's own threads

    def submit(self, task, *args) -> None:
        """Queue ``task`` (one of this object's task wrappers) with ``args``."""
        self._released(task, *args)

    def pending(self) -> int:
        """Tasks waiting to run (queued now), for /metrics."""
        return int(self._released(self.huey.pending_count))

    def scheduled(self) -> int:
        """Tasks waiting for a later time (retries)."""
        return int(self._released(self.huey.scheduled_count))

    def run_pending(self, limit: int = 1000) -> int:
        """Run the tasks queued now in this thread, until none is left (tests, ``ioffice worker
        --once``); retries scheduled for later stay queued. Returns how many ran."""
        ran = 0
        while ran < limit:
            task = self.huey.dequeue()
            if task is None:
                break
            self.huey.execute(task)
            ran += 1
        return ran

    def run_scheduled(self, until: datetime) -> int:
        """Run the tasks scheduled for a time up to ``until`` (retries) in this thread, as the
        consumer's scheduler would at that time. Returns how many ran."""
        at = until.astimezone(UTC).replace(tzinfo=None)  # huey keeps naive UTC
        tasks = self.huey.read_schedule(at)
        for task in tasks:
            self.huey.execute(task, timestamp=at)
        return len(tasks)

    def start_worker(self, threads: int | None = None, periodic: bool = True) -> None:
        """Start a consumer (worker threads and the scheduler) in this process."""
        with self._lock:
            if self._consumer is not None:
                return
            consumer = self.huey.create_consumer(workers=threads or self.container.settings.jobs_threads,
                                                 worker_type="thread", periodic=periodic, initial_delay=0.2,
                                                 max_delay=2.0, check_worker_health=False)
            consumer._set_signal_handlers = lambda: None  # the host process (uvicorn) owns the signals
            consumer.start()
            self._consumer = consumer
            log.info("job worker started (%d threads)", consumer.workers)

    def stop_worker(self) -> None:
        with self._lock:
            consumer, self._consumer = self._consumer, None
        if consumer is not None:
            consumer.stop(graceful=True)

    def close(self) -> None:
        self.stop_worker()
        self.huey.storage.close()


def in_process_default(settings: Settings) -> bool:
    """Whether ``ioffice serve`` runs the worker itself: the setting, else yes on SQLite."""
    if settings.jobs_in_process is not None:
        return settings.jobs_in_process
    return settings.db_url.startswith("sqlite")


def install(container: Container) -> Jobs:
    """The container's job queue (built once)."""
    with container._lock:
        if container.jobs is None:
            container.jobs = Jobs(container)
        return container.jobs


def renew_archived_timestamps(container: Container, *, window: timedelta | None = None) -> dict:
    """One renewal run over every archived document (see ``ioffice.signatures.renewal``)."""
    from ioffice.signatures.renewal import renew_timestamps

    from .signing_adapter import adapter

    window = window or timedelta(days=container.settings.timestamp_renewal_days)
    result = renew_timestamps(container.sessions, container.store, adapter(container), window=window)
    log.info("timestamp renewal: %d checked, %d renewed, %d failed", result.checked, len(result.renewed),
             len(result.failed))
    return {"checked": result.checked, "renewed": result.renewed, "failed": result.failed}
