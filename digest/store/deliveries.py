"""Named queries for editions: creating, claiming and recording deliveries.

The delivery row is the unit of exactly-once: it is created (UNIQUE subscriber+edition) and claimed
with a conditional update, each committed by the caller before any SMTP traffic, and marked sent
right after the server's 250.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from digest.models import Delivery, SentPaper, Subscriber
from digest.store import chunks

PENDING = ("queued", "retry")


def _insert(session: Session, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)


def active_subscribers(session: Session) -> list[Subscriber]:
    """Every subscriber who wants mail."""
    return list(session.scalars(select(Subscriber).where(Subscriber.status == "active")))


def last_edition_starts(session: Session, subscriber_ids: Sequence[int]) -> dict[int, datetime]:
    """When each subscriber's latest edition was created: their candidates are newer papers."""
    rows = session.execute(
        select(Delivery.subscriber_id, func.max(Delivery.created_at))
        .where(Delivery.subscriber_id.in_(subscriber_ids))
        .group_by(Delivery.subscriber_id)
    )
    return {sid: at for sid, at in rows}


def sent_paper_ids(session: Session, subscriber_ids: Sequence[int]) -> dict[int, set[str]]:
    """Papers already sent to each subscriber."""
    sent: dict[int, set[str]] = defaultdict(set)
    rows = session.execute(
        select(SentPaper.subscriber_id, SentPaper.paper_id).where(
            SentPaper.subscriber_id.in_(subscriber_ids)
        )
    )
    for sid, pid in rows:
        sent[sid].add(pid)
    return sent


@dataclass(frozen=True)
class NewEdition:
    """One edition to queue: who, which day, the picked papers."""

    subscriber_id: int
    edition: date
    items: list[dict[str, Any]]
    considered: int


def create_editions(session: Session, editions: Sequence[NewEdition], now: datetime) -> set[int]:
    """Queue editions in bulk; return the subscriber ids whose edition is new (not a rerun)."""
    if not editions:
        return set()
    connection = session.connection()  # Core executemany: compiled once, batched by the driver
    deliveries = cast(Table, Delivery.__table__)
    insert_deliveries = (
        _insert(session, deliveries)
        .on_conflict_do_nothing(index_elements=["subscriber_id", "edition"])
        .returning(deliveries.c.subscriber_id)
    )
    rows = [_delivery_row(e, now) for e in editions]
    created = set(connection.execute(insert_deliveries, rows).scalars())
    sent = [
        {"subscriber_id": e.subscriber_id, "paper_id": item["id"], "edition": e.edition}
        for e in editions
        if e.subscriber_id in created
        for item in e.items
        if not item.get("near_miss")
    ]
    if sent:
        connection.execute(_insert(session, SentPaper.__table__).on_conflict_do_nothing(), sent)
    _set_last_edition(session, editions, created)
    return created


def _delivery_row(edition: NewEdition, now: datetime) -> dict[str, Any]:
    return {
        "subscriber_id": edition.subscriber_id,
        "edition": edition.edition,
        "state": "queued",
        "attempts": 0,
        "items": edition.items,
        "considered": edition.considered,
        "created_at": now,
        "updated_at": now,
    }


def _set_last_edition(session: Session, editions: Sequence[NewEdition], created: set[int]) -> None:
    table = cast(Table, Subscriber.__table__)
    statement = (
        update(table).where(table.c.id == bindparam("key")).values(last_edition=bindparam("day"))
    )
    rows = [
        {"key": e.subscriber_id, "day": e.edition} for e in editions if e.subscriber_id in created
    ]
    if rows:
        session.connection().execute(statement, rows)


def pending_ids(session: Session, now: datetime, limit: int | None = None) -> list[int]:
    """Deliveries waiting to be sent (queued, or a retry whose time has come)."""
    query = (
        select(Delivery.id)
        .where(Delivery.state.in_(PENDING))
        .where((Delivery.next_attempt_at.is_(None)) | (Delivery.next_attempt_at <= now))
        .order_by(Delivery.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def claim(session: Session, ids: Sequence[int], worker: str, now: datetime) -> list[int]:
    """Move pending deliveries to `sending` for this worker; return the ids it won."""
    if not ids:
        return []
    result = session.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids), Delivery.state.in_(PENDING))
        .values(state="sending", claimed_by=worker, updated_at=now, attempts=Delivery.attempts + 1)
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(row[0] for row in result)


def release(session: Session, ids: Iterable[int], now: datetime) -> None:
    """Give claimed deliveries back untouched (the transport never started)."""
    session.execute(
        update(Delivery)
        .where(Delivery.id.in_(list(ids)), Delivery.state == "sending")
        .values(state="queued", claimed_by=None, updated_at=now, attempts=Delivery.attempts - 1)
        .execution_options(synchronize_session=False)
    )


def reclaim_abandoned(
    session: Session, now: datetime, lease: timedelta, dead: Iterable[str]
) -> int:
    """Requeue `sending` rows whose worker died or whose lease ran out; return how many."""
    dead = list(dead)
    stale = Delivery.updated_at < now - lease
    condition = stale | Delivery.claimed_by.in_(dead) if dead else stale
    result = session.execute(
        update(Delivery)
        .where(Delivery.state == "sending", condition)
        .values(state="retry", claimed_by=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def sending_workers(session: Session) -> list[str]:
    """Workers that hold `sending` rows (to check which are still alive)."""
    query = select(Delivery.claimed_by).where(Delivery.state == "sending").distinct()
    return [w for w in session.scalars(query) if w]


def defer(session: Session, ids: Sequence[int], until: datetime) -> None:
    """Keep pending deliveries out of `pending_ids` until `until` (they are with the workers)."""
    for chunk in chunks(ids):
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(chunk), Delivery.state.in_(PENDING))
            .values(next_attempt_at=until)
            .execution_options(synchronize_session=False)
        )


def load(session: Session, ids: Sequence[int]) -> list[Delivery]:
    """Deliveries with their subscribers, in id order."""
    rows = session.scalars(select(Delivery).where(Delivery.id.in_(ids)).order_by(Delivery.id))
    return list(rows)


def subscribers_by_id(session: Session, ids: Iterable[int]) -> dict[int, Subscriber]:
    """The subscribers with these ids."""
    found: dict[int, Subscriber] = {}
    for chunk in chunks(sorted(ids)):
        found.update(
            (s.id, s) for s in session.scalars(select(Subscriber).where(Subscriber.id.in_(chunk)))
        )
    return found


def record(session: Session, delivery_id: int, state: str, now: datetime, **fields: Any) -> None:
    """Write the outcome of one attempt."""
    values = {"state": state, "updated_at": now, **fields}
    if state == "sent":
        values["sent_at"] = now
    if state != "retry":
        values["claimed_by"] = None
    # A Core statement per set of columns, compiled once: this runs once per email sent.
    session.connection().execute(
        _record_statement(tuple(sorted(values))), {"key": delivery_id, **values}
    )


@lru_cache(maxsize=32)
def _record_statement(columns: tuple[str, ...]) -> Any:
    table = cast(Table, Delivery.__table__)
    return (
        update(table)
        .where(table.c.id == bindparam("key"))
        .values({name: bindparam(name) for name in columns})
    )


def counts_by_state(session: Session, edition: date | None = None) -> dict[str, int]:
    """How many deliveries are in each state (optionally for one edition)."""
    query = select(Delivery.state, func.count()).group_by(Delivery.state)
    if edition is not None:
        query = query.where(Delivery.edition == edition)
    return {state: n for state, n in session.execute(query)}


def note_bounce(session: Session, subscriber_id: int, threshold: int) -> bool:
    """Count a hard bounce; mark the address bounced at the threshold. Return whether it was."""
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        return False
    subscriber.bounce_count += 1
    if subscriber.bounce_count >= threshold:
        subscriber.status = "bounced"
    return subscriber.status == "bounced"
