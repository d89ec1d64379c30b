"""`digest status`: are the sources in, did the last runs work, what waits, which addresses bounce.

The queries here are read-only summaries for operators; `digest.metrics` reads the same ones.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, overload

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from digest.models import Delivery, Subscriber
from digest.readiness import sources_status
from digest.sources_config import Source
from digest.store.runs import recent_runs

PENDING_STATES = ("queued", "retry", "sending")


@dataclass(frozen=True)
class QueueRow:
    """Deliveries waiting in one state: how many, since when, next attempt due."""

    state: str
    count: int
    oldest: datetime | None
    next_attempt: datetime | None


@dataclass(frozen=True)
class BounceRow:
    """A delivery refused with a permanent (5xx) reply."""

    email: str
    subscriber_status: str
    code: int | None
    reply: str
    at: datetime


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
@overload
def as_utc(value: datetime | None) -> datetime | None: ...


def as_utc(value: datetime | None) -> datetime | None:
    """Read a stored time as aware UTC (SQLite hands back naive datetimes)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def pending_queue(session: Session) -> list[QueueRow]:
    """Return the deliveries not yet settled, grouped by state."""
    query = (
        select(
            Delivery.state,
            func.count(),
            func.min(Delivery.created_at),
            func.min(Delivery.next_attempt_at),
        )
        .where(Delivery.state.in_(PENDING_STATES))
        .group_by(Delivery.state)
    )
    rows = {row[0]: row for row in session.execute(query)}
    return [
        QueueRow(state, rows[state][1], as_utc(rows[state][2]), as_utc(rows[state][3]))
        for state in PENDING_STATES
        if state in rows
    ]


def recent_bounces(session: Session, limit: int = 10) -> list[BounceRow]:
    """Return the latest deliveries refused with a 5xx reply, newest first."""
    query = (
        select(Subscriber.email, Subscriber.status, Delivery.last_code, Delivery.last_reply)
        .add_columns(Delivery.updated_at)
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(Delivery.last_code >= 500, Delivery.last_code < 600)
        .order_by(Delivery.updated_at.desc())
        .limit(limit)
    )
    return [
        BounceRow(email, status, code, reply or "", as_utc(at))
        for email, status, code, reply, at in session.execute(query)
    ]


def subscriber_counts(session: Session) -> dict[str, int]:
    """Return the number of subscribers in each status."""
    rows = session.execute(select(Subscriber.status, func.count()).group_by(Subscriber.status))
    return {status: count for status, count in rows}


def flatten(values: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, float]]:
    """Yield (dotted.key, number) for every number in a nested mapping of run counts or timings."""
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from flatten(value, f"{name}.")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            yield name, float(value)


def render_status(
    session: Session, now: datetime, console: Console, sources: list[Source] | None = None
) -> None:
    """Print every section of `digest status`: sources, runs, queue, bounces."""
    console.print(_sources_table(session, now, sources))
    for section in (_runs_table, _queue_table, _bounces_table):
        console.print(section(session, now))


def _sources_table(session: Session, now: datetime, sources: list[Source] | None) -> Table | str:
    rows = sources_status(session, now, sources)
    if not rows:
        return "Sources: none configured or fetched yet (see config/sources.toml, digest fetch)."
    table = Table("source", "kind", "today", "items", "last success", "last error", title="Sources")
    for row in rows:
        error = _error_line(row.last_error, row.last_error_at, row.last_ok_at, now)
        today = f"[yellow]{row.today}[/]" if row.today == "waiting" else row.today
        table.add_row(row.name, row.kind, today, str(row.items), _ago(row.last_ok_at, now), error)
    return table


def _error_line(error: str | None, at: datetime | None, ok: datetime | None, now: datetime) -> str:
    if not error or at is None:
        return "-"
    note = "" if ok is None or at > ok else " (since recovered)"
    return f"{_ago(at, now)}: {error.splitlines()[0][:60]}{note}"


def _runs_table(session: Session, now: datetime) -> Table | str:
    runs = recent_runs(session, limit=5)
    if not runs:
        return "Runs: none yet (digest run, or digest schedule, performs a tick)."
    table = Table("started (UTC)", "status", "took", "counts", "stages", title="Last runs")
    for run in runs:
        table.add_row(
            _when(run.started_at),
            run.status if not run.error else f"{run.status}: {run.error[:60]}",
            _took(run.started_at, run.finished_at, now),
            _numbers(run.counts, "{:g}"),
            _numbers(run.timings, "{:.2f}s"),
        )
    return table


def _queue_table(session: Session, now: datetime) -> Table | str:
    rows = pending_queue(session)
    if not rows:
        return "Queue: empty (no delivery queued, sending or waiting to retry)."
    table = Table("state", "deliveries", "oldest", "next attempt", title="Pending deliveries")
    for row in rows:
        table.add_row(row.state, str(row.count), _ago(row.oldest, now), _when(row.next_attempt))
    return table


def _bounces_table(session: Session, now: datetime) -> Table | str:
    bounced = subscriber_counts(session).get("bounced", 0)
    rows = recent_bounces(session)
    if not rows:
        return f"Bounces: none recorded ({bounced} addresses marked bounced)."
    title = f"Recent permanent failures ({bounced} addresses marked bounced)"
    table = Table("address", "subscriber", "code", "reply", "when", title=title)
    for row in rows:
        table.add_row(
            row.email, row.subscriber_status, str(row.code), row.reply[:60], _ago(row.at, now)
        )
    return table


def _when(value: datetime | None) -> str:
    value = as_utc(value)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if value else "-"


def _took(start: datetime, end: datetime | None, now: datetime) -> str:
    if end is None:
        return f"running {_ago(start, now)}"
    return f"{(as_utc(end) - as_utc(start)).total_seconds():.1f}s"


def _ago(value: datetime | None, now: datetime) -> str:
    value = as_utc(value)
    if value is None:
        return "-"
    minutes = int((now - value).total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} h ago"
    return f"{minutes // 1440} d ago"


def _numbers(values: Mapping[str, Any], fmt: str) -> str:
    return " ".join(f"{key}={fmt.format(value)}" for key, value in flatten(values)) or "-"
