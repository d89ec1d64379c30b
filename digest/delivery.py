"""The send step: claim deliveries, render, send over SMTP, record each outcome.

Claim, then act: rows move queued/retry -> sending in a committed conditional update before any
SMTP traffic, and each is marked sent in its own commit right after the server's 250. The one
unavoidable window is between that 250 and our commit: a crash there resends that one message
(with the same Message-ID) after restart. Everything else is sent exactly once.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import signal
import socket
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from digest import db
from digest.compose import digest_message
from digest.config import ConfigError, Settings
from digest.mailer import Mailer, SendResult, SmtpUnavailable
from digest.models import Delivery, Paper, Subscriber
from digest.outbox import write_outbox
from digest.render import Renderer
from digest.store import deliveries as delivery_store
from digest.store import papers as paper_store
from digest.tokens import Links, Tokens

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=15)
PARALLEL_MIN = 2_000  # below this, process start-up costs more than it saves
SENDER_GC_YOUNG = 10_000  # allocations between young collections in sender processes


@dataclass
class DeliverStats:
    """Outcomes of one send step."""

    sent: int = 0
    retry: int = 0
    bounced: int = 0
    failed: int = 0
    suppressed: int = 0
    released: int = 0

    @property
    def handled(self) -> int:
        """Deliveries this send step settled one way or another (not given back)."""
        return self.sent + self.retry + self.bounced + self.failed + self.suppressed

    def add(self, other: DeliverStats) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


def utcnow() -> datetime:
    return datetime.now(UTC)


def worker_id() -> str:
    """host.pidns:pid:nonce, so a restart can tell which claims belonged to a dead process."""
    return f"{_host()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _host() -> str:
    """This machine and PID namespace: two containers sharing a hostname differ here."""
    try:
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return socket.gethostname()
    return f"{socket.gethostname()}.{namespace}"


@lru_cache(maxsize=4)
def renderer_for(template_dir: str | None = None) -> Renderer:
    """One renderer per process: templates load and CSS inlines once."""
    return Renderer(Path(template_dir) if template_dir else None)


def links_for(settings: Settings) -> Links:
    keys = [k.get_secret_value() for k in settings.old_secret_keys]
    return Links(settings.base_url, Tokens(settings.secret_key.get_secret_value(), keys))


def deliver(
    settings: Settings,
    delivery_ids: Sequence[int],
    *,
    worker: str,
    sessions: sessionmaker[Session] | None = None,
) -> DeliverStats:
    """Claim, send and record these deliveries; rows already claimed or sent are skipped."""
    factory = sessions or db.sessions_for(settings.database_url)
    with db.session_scope(factory) as session:
        won = delivery_store.claim(session, delivery_ids, worker, utcnow())
    stats = DeliverStats()
    if not won:
        return stats
    _failpoint(settings, "after_claim")
    chunks = [won[i :: settings.smtp_connections] for i in range(settings.smtp_connections)]
    chunks = [c for c in chunks if c]
    with ThreadPoolExecutor(len(chunks)) as pool:
        futures = [pool.submit(_send_chunk, settings, factory, chunk) for chunk in chunks]
        for future in futures:
            stats.add(future.result())
    return stats


def sender_processes(settings: Settings, pending: int) -> int:
    """How many sender processes a run of `pending` digests deserves (1: stay in this one)."""
    if pending < PARALLEL_MIN:
        return 1
    return settings.send_processes or os.cpu_count() or 1


def deliver_in_processes(
    settings: Settings,
    ids: Sequence[int],
    processes: int,
    batch: int,
    on_batch: Callable[[DeliverStats], None],
) -> None:
    """Send batches from several processes (Python renders on one core per process).

    Each child claims through the same delivery rows, so the guarantees are those of `deliver`;
    an unreachable SMTP server stops them all and what was not sent stays queued.
    """
    # Connections and the rate limit are per process: share them out so the relay sees the
    # configured totals (and a process's render work is not split across GIL-bound threads).
    share = {
        "smtp_rate_limit": settings.smtp_rate_limit / processes,
        "smtp_connections": max(1, settings.smtp_connections // processes),
    }
    settings = settings.model_copy(update=share)
    batches = [list(ids[start : start + batch]) for start in range(0, len(ids), batch)]
    context = multiprocessing.get_context("spawn")  # no inherited connections or threads
    with ProcessPoolExecutor(processes, mp_context=context, initializer=_fewer_collections) as pool:
        futures = [pool.submit(_deliver_in_child, settings, b) for b in batches]
        try:
            for future in as_completed(futures):
                on_batch(future.result())
        except SmtpUnavailable:
            for future in futures:
                future.cancel()
            raise


def _fewer_collections() -> None:
    """In a sender process: collect young objects every SENDER_GC_YOUNG allocations, not 700.

    Each message makes and drops thousands of small objects (header parse trees, template
    contexts); at Python's default the collector rescans those still alive so often that it cost
    about a tenth of a sender's CPU (paired runs of 10,000 digests).
    """
    gc.set_threshold(SENDER_GC_YOUNG, *gc.get_threshold()[1:])


def _deliver_in_child(settings: Settings, ids: list[int]) -> DeliverStats:
    return deliver(settings, ids, worker=worker_id())


def _send_chunk(settings: Settings, factory: sessionmaker[Session], ids: list[int]) -> DeliverStats:
    deliveries, subscribers, papers = _load_batch(factory, ids)
    renderer, links, stats = renderer_for(), links_for(settings), DeliverStats()
    done = 0
    try:
        with Mailer(settings) as mailer:
            for done, delivery in enumerate(deliveries):  # noqa: B007 (read after an error)
                subscriber = subscribers[delivery.subscriber_id]
                if subscriber.status != "active":
                    _record_skip(factory, delivery, subscriber.status)
                    stats.suppressed += 1
                    continue
                message = digest_message(settings, renderer, delivery, subscriber, papers, links)
                result = mailer.send(message)
                _failpoint(settings, "after_250")
                _record(settings, factory, delivery, result, message["Message-ID"], stats)
    except (SmtpUnavailable, ConfigError):  # the transport or the DKIM key, not this message
        _release(factory, [d.id for d in deliveries[done:]], stats)
        raise
    return stats


def _load_batch(
    factory: sessionmaker[Session], ids: Sequence[int]
) -> tuple[list[Delivery], dict[int, Subscriber], dict[str, Paper]]:
    """The deliveries, their subscribers and their papers, in three queries."""
    with db.session_scope(factory) as session:
        deliveries = delivery_store.load(session, ids)
        subscribers = delivery_store.subscribers_by_id(
            session, {d.subscriber_id for d in deliveries}
        )
        wanted = sorted({item["id"] for d in deliveries for item in d.items})
        papers = {p.id: p for p in paper_store.papers_by_ids(session, wanted)}
    return deliveries, subscribers, papers


def _failpoint(settings: Settings, point: str) -> None:
    """Crash here, hard, when a crash test asks for it (see tests/test_crash.py)."""
    if settings.failpoint == point:
        os.kill(os.getpid(), signal.SIGKILL)


def _release(factory: sessionmaker[Session], ids: list[int], stats: DeliverStats) -> None:
    with db.session_scope(factory) as session:
        delivery_store.release(session, ids, utcnow())
    stats.released += len(ids)


def _record_skip(factory: sessionmaker[Session], delivery: Delivery, status: str) -> None:
    with db.session_scope(factory) as session:
        delivery_store.record(session, delivery.id, "suppressed", utcnow(), last_reply=status)


def _record(
    settings: Settings,
    factory: sessionmaker[Session],
    delivery: Delivery,
    result: SendResult,
    message_id: str,
    stats: DeliverStats,
) -> None:
    now = utcnow()
    state = result.outcome
    extra: dict[str, object] = {"last_code": result.code, "last_reply": result.reply[:500]}
    with db.session_scope(factory) as session:
        if state == "sent":
            extra["message_id"] = message_id
        elif state == "retry":
            if delivery.attempts >= settings.smtp_max_attempts:
                state = "failed"
            else:
                extra["next_attempt_at"] = now + timedelta(minutes=min(2**delivery.attempts, 60))
        elif state == "bounced":
            delivery_store.note_bounce(session, delivery.subscriber_id, settings.bounce_threshold)
            state = "failed"
        delivery_store.record(session, delivery.id, state, now, **extra)
    setattr(stats, result.outcome, getattr(stats, result.outcome) + 1)
    _log_outcome(delivery, result)


def _log_outcome(delivery: Delivery, result: SendResult) -> None:
    if result.outcome == "sent":
        return
    log.warning(
        "delivery %s (subscriber %s, edition %s): %s %s %s",
        delivery.id,
        delivery.subscriber_id,
        delivery.edition,
        result.outcome,
        result.code,
        result.reply[:200],
    )


def reclaim_abandoned(factory: sessionmaker[Session]) -> int:
    """Requeue `sending` rows of dead local workers or with expired leases."""
    with db.session_scope(factory) as session:
        dead = [w for w in delivery_store.sending_workers(session) if not _alive(w)]
        return delivery_store.reclaim_abandoned(session, utcnow(), LEASE, dead)


def _alive(worker: str) -> bool:
    """Whether a worker in this host and PID namespace is still running; others count as alive."""
    host, _, rest = worker.partition(":")
    pid = rest.partition(":")[0]
    if host != _host() or not pid.isdigit():
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            state = stat.read().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return False  # no such process
    return state not in ("Z", "X")  # a killed process waiting to be reaped is dead


def dry_run(
    settings: Settings, delivery_ids: Sequence[int], *, sessions: sessionmaker[Session]
) -> list[Path]:
    """Render these deliveries into the outbox as .eml and .html; send and change nothing."""
    deliveries, subscribers, papers = _load_batch(sessions, delivery_ids)
    renderer, links = renderer_for(), links_for(settings)
    settings.outbox_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for delivery in deliveries:
        message = digest_message(
            settings, renderer, delivery, subscribers[delivery.subscriber_id], papers, links
        )
        paths.append(write_outbox(settings.outbox_dir, message))
    return paths
