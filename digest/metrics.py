"""Prometheus metrics, read from the database at scrape time.

The web app, the scheduler and every worker are separate processes, so in-process counters
would each see a slice. The rows they all write (`runs`, `deliveries`, `source_state`,
`subscribers`) are the one shared truth; each scrape turns them into metrics.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from digest.models import Delivery, Run, SourceState, Subscriber
from digest.status import as_utc, flatten, subscriber_counts
from digest.store.deliveries import counts_by_state

# The text format every Prometheus server reads; our metric names are plain ASCII.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
DELIVERY_STATES = ("queued", "sending", "sent", "retry", "failed", "suppressed")


class DatabaseCollector(Collector):
    """Yield every digest metric from one session, computed when Prometheus scrapes."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now

    def collect(self) -> Iterator[Metric]:
        yield from delivery_metrics(self.session)
        yield from subscriber_metrics(self.session)
        yield from run_metrics(self.session)
        yield from source_metrics(self.session, self.now)


def metrics_response(session: Session, now: datetime | None = None) -> tuple[bytes, str]:
    """Render the metrics in Prometheus text format; return (body, content type)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(session, now or datetime.now(UTC)))
    return generate_latest(registry), CONTENT_TYPE


def delivery_metrics(session: Session) -> Iterator[Metric]:
    """Deliveries by state, and the totals sent, failed and retried."""
    counts = counts_by_state(session)
    by_state = GaugeMetricFamily(
        "digest_deliveries",
        "Deliveries (one per subscriber and edition) by state",
        labels=["state"],
    )
    for state in sorted(set(DELIVERY_STATES) | set(counts)):
        by_state.add_metric([state], counts.get(state, 0))
    yield by_state
    yield CounterMetricFamily(
        "digest_digests_sent", "Digests accepted by the SMTP server", value=counts.get("sent", 0)
    )
    yield CounterMetricFamily(
        "digest_digests_failed",
        "Digests given up on (permanent refusal or attempts exhausted)",
        value=counts.get("failed", 0),
    )
    retries = session.scalar(
        select(func.coalesce(func.sum(Delivery.attempts - 1), 0)).where(Delivery.attempts > 1)
    )
    yield CounterMetricFamily(
        "digest_digest_retries", "Send attempts beyond each delivery's first", value=retries or 0
    )


def subscriber_metrics(session: Session) -> Iterator[Metric]:
    """Subscribers by status, and the hard bounces counted against them."""
    gauge = GaugeMetricFamily("digest_subscribers", "Subscribers by status", labels=["status"])
    for status, count in sorted(subscriber_counts(session).items()):
        gauge.add_metric([status], count)
    yield gauge
    bounces = session.scalar(select(func.coalesce(func.sum(Subscriber.bounce_count), 0)))
    yield CounterMetricFamily(
        "digest_bounces", "Hard bounces (5.1.x) recorded against subscribers", value=bounces or 0
    )


def run_metrics(session: Session) -> Iterator[Metric]:
    """Ticks by outcome, and the counts and stage timings of the last finished tick."""
    runs = GaugeMetricFamily("digest_runs", "Recorded ticks by status", labels=["status"])
    for status, count in session.execute(select(Run.status, func.count()).group_by(Run.status)):
        runs.add_metric([status], count)
    yield runs
    last = session.scalars(
        select(Run).where(Run.finished_at.is_not(None)).order_by(Run.started_at.desc()).limit(1)
    ).first()
    if last is None or last.finished_at is None:
        return
    finished = as_utc(last.finished_at)
    yield GaugeMetricFamily(
        "digest_last_run_timestamp_seconds",
        "When the last finished tick ended (Unix time)",
        value=finished.timestamp(),
    )
    yield GaugeMetricFamily(
        "digest_last_run_duration_seconds",
        "Wall time of the last finished tick",
        value=(finished - as_utc(last.started_at)).total_seconds(),
    )
    yield _labelled(
        "digest_last_run_stage_seconds", "Stage durations of the last tick", "stage", last.timings
    )
    yield _labelled(
        "digest_last_run_count", "Per-stage counts of the last tick", "name", last.counts
    )


def source_metrics(session: Session, now: datetime) -> Iterator[Metric]:
    """Per source: items seen, last success, last new item, staleness and whether it is failing."""
    states = list(session.scalars(select(SourceState).order_by(SourceState.name)))
    families = {
        "items": GaugeMetricFamily(
            "digest_source_items_seen",
            "Items the source listed at its last fetch",
            labels=["source"],
        ),
        "ok": GaugeMetricFamily(
            "digest_source_last_success_timestamp_seconds",
            "Last successful fetch (Unix time)",
            labels=["source"],
        ),
        "stale": GaugeMetricFamily(
            "digest_source_staleness_seconds",
            "Seconds since the source last brought new items (else since its last success)",
            labels=["source"],
        ),
        "failing": GaugeMetricFamily(
            "digest_source_failing",
            "1 when the last fetch failed (its error is newer than its last success)",
            labels=["source"],
        ),
    }
    for state in states:
        _add_source(families, state, now)
    yield from families.values()


def _add_source(families: dict[str, GaugeMetricFamily], state: SourceState, now: datetime) -> None:
    label = [state.name]
    ok, new, error = (
        as_utc(state.last_ok_at),
        as_utc(state.last_new_at),
        as_utc(state.last_error_at),
    )
    families["items"].add_metric(label, state.items_seen or 0)
    if ok is not None:
        families["ok"].add_metric(label, ok.timestamp())
    fresh = new or ok
    if fresh is not None:
        families["stale"].add_metric(label, max(0.0, (now - fresh).total_seconds()))
    failing = error is not None and (ok is None or error > ok)
    families["failing"].add_metric(label, 1 if failing else 0)


def _labelled(name: str, documentation: str, label: str, values: dict) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for key, value in flatten(values or {}):
        family.add_metric([key], value)
    return family
