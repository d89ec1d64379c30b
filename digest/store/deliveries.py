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
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from digest.models import Delivery, SentPaper, Subscriber
from digest.store import chunks

PENDING = ("queued", "retry")
BULK = 500  # rows per statement: well under SQLite's bound-parameter limit


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
    created: set[int] = set()
    for start in range(0, len(editions), BULK):
        created |= _create_chunk(session, editions[start : start + BULK], now)
    return created


def _create_chunk(session: Session, chunk: Sequence[NewEdition], now: datetime) -> set[int]:
    rows = [
        {
            "subscriber_id": e.subscriber_id,
            "edition": e.edition,
            "state": "queued",
            "attempts": 0,
            "items": e.items,
            "considered": e.considered,
            "created_at": now,
            "updated_at": now,
        }
        for e in chunk
    ]
    stmt = (
        _insert(session, Delivery)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["subscriber_id", "edition"])
        .returning(Delivery.subscriber_id)
    )
    created = set(session.scalars(stmt))
    sent = [
        {"subscriber_id": e.subscriber_id, "paper_id": item["id"], "edition": e.edition}
        for e in chunk
        if e.subscriber_id in created
        for item in e.items
        if not item.get("near_miss")
    ]
    if sent:
        session.execute(_insert(session, SentPaper).on_conflict_do_nothing(), sent)
    for edition in {e.edition for e in chunk}:
        ids = [
            e.subscriber_id for e in chunk if e.edition == edition and e.subscriber_id in created
        ]
        session.execute(
            update(Subscriber)
            .where(Subscriber.id.in_(ids))
            .values(last_edition=edition)
            .execution_options(synchronize_session=False)
        )
    return created


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
    table = Delivery.__table__
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
