"""One tick: fetch -> store -> select -> score -> render -> send -> record.

`digest run` calls `run_tick` once; the scheduler calls the same function every few minutes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from digest import db, editions, schedule
from digest.config import Settings
from digest.delivery import (
    LEASE,
    DeliverStats,
    deliver,
    deliver_in_processes,
    reclaim_abandoned,
    sender_processes,
    utcnow,
    worker_id,
)
from digest.mailer import SmtpUnavailable
from digest.ranking.semantic import load_embedder
from digest.store import deliveries as delivery_store
from digest.store import runs as run_store

log = logging.getLogger(__name__)
SEND_BATCH = 500
Progress = Callable[[int, int], None]


class TickFailed(Exception):
    """The tick could not complete (e.g. the SMTP server is unreachable); work stays queued."""


@dataclass
class TickReport:
    """What one tick did, for the CLI summary, the run row and the tests."""

    run_id: int
    now: datetime
    due: int = 0
    queued: int = 0
    quiet: int = 0
    considered: int = 0
    reclaimed: int = 0
    fanned_out: int = 0
    waiting_for_sources: list[str] = field(default_factory=list)
    sent: DeliverStats = field(default_factory=DeliverStats)
    fetch: dict[str, Any] = field(default_factory=dict)
    picks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def counts(self) -> dict[str, Any]:
        return {
            "due": self.due,
            "queued": self.queued,
            "quiet": self.quiet,
            "considered": self.considered,
            "reclaimed": self.reclaimed,
            "waiting_for_sources": self.waiting_for_sources,
            **asdict(self.sent),
        }


@contextmanager
def _timed(report: TickReport, stage: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        report.timings[stage] = round(time.perf_counter() - start, 4)


def run_tick(
    settings: Settings,
    *,
    now: datetime | None = None,
    fetch: bool = True,
    sessions: sessionmaker[Session] | None = None,
    progress: Progress | None = None,
) -> TickReport:
    """Run one tick; raise TickFailed when it cannot complete (queued work stays queued).

    `progress(done, total)` is called as the send step gets through the queue.
    """
    factory = sessions or db.sessions_for(settings.database_url)
    now = now or utcnow()
    with db.session_scope(factory) as session:
        report = TickReport(run_id=run_store.start_run(session, now), now=now)
    try:
        _stages(settings, factory, report, fetch, progress)
    except SmtpUnavailable as exc:
        _finish(factory, report, "failed", f"SMTP unavailable: {exc}")
        raise TickFailed(f"cannot reach the SMTP server: {exc}; deliveries stay queued") from exc
    except TickFailed as exc:
        _finish(factory, report, "failed", str(exc))
        raise
    _finish(factory, report, "ok")
    return report


def _stages(
    settings: Settings,
    factory: sessionmaker[Session],
    report: TickReport,
    fetch: bool,
    progress: Progress | None,
) -> None:
    if fetch:
        with _timed(report, "fetch"):
            report.fetch = fetch_sources(settings, factory, report.now)
    with _timed(report, "reclaim"):
        report.reclaimed = reclaim_abandoned(factory)
    with _timed(report, "select_score"), db.session_scope(factory) as session:
        select_and_score(settings, session, report)
    with _timed(report, "send"):
        _send_pending(settings, factory, report, progress or (lambda _done, _total: None))


def select_and_score(settings: Settings, session: Session, report: TickReport) -> None:
    due = schedule.due_subscribers(delivery_store.active_subscribers(session), report.now)
    due, report.waiting_for_sources = _ready_only(settings, session, due, report.now)
    embed = load_embedder(settings)
    stats = editions.queue_editions(
        session, due, report.now, embed, workers=settings.rank_processes or None
    )
    report.due, report.queued, report.quiet = stats.due, stats.queued, stats.quiet
    report.considered, report.picks = stats.papers_considered, stats.picks


def _ready_only(
    settings: Settings, session: Session, due: list[schedule.Due], now: datetime
) -> tuple[list[schedule.Due], list[str]]:
    """Hold back sends while an announcing source is stale, up to the configured deadline."""
    from digest.readiness import source_readiness

    readiness = source_readiness(session, now, settings)
    if readiness.ready:
        return due, []
    deadline = settings.stale_deadline_hours * 3600
    ready = [d for d in due if (now - d.send_at).total_seconds() >= deadline]
    if len(ready) < len(due):
        log.warning(
            "waiting for stale sources %s: %d editions held back",
            ", ".join(readiness.stale),
            len(due) - len(ready),
        )
    return ready, list(readiness.stale)


def _send_pending(
    settings: Settings, factory: sessionmaker[Session], report: TickReport, progress: Progress
) -> None:
    """Send in batches until nothing pending is left that this process can win."""
    if settings.executor == "celery":
        _fan_out(settings, factory, report)
        return
    with db.session_scope(factory) as session:
        pending = delivery_store.pending_ids(session, report.now)

    def batch_done(stats: DeliverStats) -> None:
        report.sent.add(stats)
        progress(report.sent.handled, len(pending))

    processes = sender_processes(settings, len(pending))
    if processes > 1:
        deliver_in_processes(settings, pending, processes, SEND_BATCH, batch_done)
    worker = worker_id()
    while True:  # in this process: what is left, and whatever other senders gave back
        with db.session_scope(factory) as session:
            ids = delivery_store.pending_ids(session, report.now, limit=SEND_BATCH)
        if not ids:
            return
        stats = deliver(settings, ids, worker=worker, sessions=factory)
        batch_done(stats)
        if stats.handled == 0:
            return  # everything in this batch was claimed by another sender


def _fan_out(settings: Settings, factory: sessionmaker[Session], report: TickReport) -> None:
    """Hand every pending delivery to the Celery workers; they claim through the same rows."""
    from digest.tasks import BrokerUnavailable, fan_out

    with db.session_scope(factory) as session:
        ids = delivery_store.pending_ids(session, report.now)
    if not ids:
        return
    try:
        fan_out(settings, ids)
    except BrokerUnavailable as exc:
        raise TickFailed(str(exc)) from exc
    with db.session_scope(factory) as session:
        # Not fanned out again while the workers have them; if the broker lost them, after LEASE.
        delivery_store.defer(session, ids, report.now + LEASE)
    report.fanned_out = len(ids)


def fetch_sources(
    settings: Settings, factory: sessionmaker[Session], now: datetime
) -> dict[str, Any]:
    """Fetch every configured source; failures stay per source."""
    from digest.poll import fetch_all

    return fetch_all(settings, factory, now)


def _finish(
    factory: sessionmaker[Session], report: TickReport, status: str, error: str | None = None
) -> None:
    with db.session_scope(factory) as session:
        run_store.finish_run(
            session, report.run_id, utcnow(), status, report.counts(), report.timings, error
        )


class Ticker:
    """The scheduler's tick: failures are logged and back off, so an outage is not a crash loop.

    After n consecutive failures (e.g. the SMTP server is down) the next 2**n - 1 ticks are
    skipped, up to `MAX_SKIPPED`; the first success resets it.
    """

    MAX_SKIPPED = 12

    def __init__(self, settings: Settings, clock: Callable[[], datetime] = utcnow) -> None:
        self.settings = settings
        self.clock = clock
        self.failures = 0
        self.skip = 0

    def __call__(self) -> bool:
        """Run (or skip) one tick; return whether a tick ran and completed."""
        if self.skip:
            self.skip -= 1
            return False
        try:
            report = run_tick(self.settings, now=self.clock(), fetch=False)
        except Exception as exc:
            self._failed(exc)
            return False
        self.failures = 0
        log.info("tick: %d due, %d queued, %d sent", report.due, report.queued, report.sent.sent)
        return True

    def _failed(self, exc: Exception) -> None:
        self.failures += 1
        self.skip = min(2**self.failures - 1, self.MAX_SKIPPED)
        if isinstance(exc, TickFailed):
            log.error("tick failed: %s; skipping the next %d ticks", exc, self.skip)
        else:
            log.exception("tick crashed; skipping the next %d ticks", self.skip)


def safe_fetch(settings: Settings) -> None:
    """The scheduler's fetch job: log failures and go on."""
    try:
        fetch_sources(settings, db.sessions_for(settings.database_url), utcnow())
    except Exception:
        log.exception("fetch crashed; the next fetch will try again")
