"""Celery: the send step fanned out to workers (executor = "celery"); the scheduler stays one.

Each task claims its deliveries through the same delivery rows as the inline path, so a batch run
twice, or by two workers at once, sends each digest once. A message is acknowledged only after its
task has run (acks_late) and goes back to the queue when the worker process dies, so a worker
killed mid-batch loses nothing: the batch runs again, reclaims the dead worker's rows and skips
what was already sent.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from celery import Celery, group
from celery.result import GroupResult
from kombu.exceptions import OperationalError

from digest.config import Settings

log = logging.getLogger(__name__)

TASK = "digest.deliver_batch"
QUEUE = "digest"
BATCH_SIZE = 50
# Seconds before Redis hands a batch taken by a vanished worker to another one. Longer than any
# batch takes; a batch handed out twice is harmless (claims), only slower.
VISIBILITY_TIMEOUT = 900


class BrokerUnavailable(Exception):
    """The broker did not take the batches; the deliveries stay queued for the next tick."""


def make_celery(settings: Settings, *, visibility_timeout: int = VISIBILITY_TIMEOUT) -> Celery:
    """Build the Celery app for these settings, with the send task bound to them."""
    app = Celery("digest", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_default_queue=QUEUE,
        broker_transport_options={"visibility_timeout": visibility_timeout},
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        enable_utc=True,
    )

    @app.task(name=TASK, shared=False)  # bound to these settings: keep it out of other apps
    def deliver_task(delivery_ids: list[int]) -> dict[str, int]:
        return deliver_batch(settings, delivery_ids)

    return app


def deliver_batch(settings: Settings, delivery_ids: Sequence[int]) -> dict[str, int]:
    """Requeue rows of dead workers, then claim, send and record this batch; return the counts."""
    from digest import db
    from digest.delivery import deliver, reclaim_abandoned, worker_id
    from digest.mailer import SmtpUnavailable

    sessions = db.sessions_for(settings.database_url)
    reclaimed = reclaim_abandoned(sessions)
    try:
        stats = asdict(deliver(settings, delivery_ids, worker=worker_id(), sessions=sessions))
    except SmtpUnavailable as exc:
        log.error(
            "batch of %d: cannot reach the SMTP server (%s); they stay queued for the next tick",
            len(delivery_ids),
            exc,
        )
        return {"reclaimed": reclaimed}
    log.info("batch of %d: %s", len(delivery_ids), _summary(stats | {"reclaimed": reclaimed}))
    return stats | {"reclaimed": reclaimed}


def fan_out(
    settings: Settings, delivery_ids: Sequence[int], batch_size: int = BATCH_SIZE
) -> GroupResult:
    """Queue the deliveries as batches for the workers; raise BrokerUnavailable if it is down."""
    app = make_celery(settings)
    ids = list(delivery_ids)
    batches = [ids[start : start + batch_size] for start in range(0, len(ids), batch_size)]
    try:
        result = group([app.signature(TASK, args=(batch,)) for batch in batches], app=app)
        sent: GroupResult = result.apply_async()
    except OperationalError as exc:
        raise BrokerUnavailable(f"cannot reach the broker: {exc}; deliveries stay queued") from exc
    finally:
        app.close()
    log.info("fanned out %d deliveries in %d batches", len(ids), len(batches))
    return sent


def run_worker(settings: Settings, *, concurrency: int, visibility_timeout: int) -> None:
    """Run a Celery worker for digest's tasks in this process until it is told to stop.

    Logging is already set up from the settings; Celery leaves the root logger alone.
    """
    if settings.executor != "celery":
        log.warning(
            'executor is "%s": ticks send from the scheduler and this worker gets no batches; '
            'set executor = "celery" everywhere to fan out',
            settings.executor,
        )
    app = make_celery(settings, visibility_timeout=visibility_timeout)
    app.worker_main(
        [
            "worker",
            f"--concurrency={concurrency}",
            f"--loglevel={settings.log_level}",
            f"--queues={QUEUE}",
            "--hostname=digest@%h",
            "--without-gossip",
            "--without-mingle",
        ]
    )


def _summary(stats: dict[str, Any]) -> str:
    return ", ".join(f"{key} {value}" for key, value in stats.items() if value)
