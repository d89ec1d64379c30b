"""Feedback: "more like this", "less like this" and seed papers, per subscriber."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from digest.models import Feedback, Subscriber
from digest.sources import arxiv_id
from digest.store.subscriber_rules import SubscriberError

MAX_SEEDS = 200


def record_feedback(
    session: Session, sub: Subscriber, paper_id: str, value: int, now: datetime
) -> None:
    """Store "more like this" (+1) or "less like this" (-1); 0 undoes it."""
    if value not in (-1, 0, 1):
        raise SubscriberError("Feedback is +1, -1 or 0.")
    paper_id = paper_id.strip()[:255]
    row = session.scalars(
        select(Feedback).where(Feedback.subscriber_id == sub.id, Feedback.paper_id == paper_id)
    ).first()
    if value == 0:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(Feedback(subscriber_id=sub.id, paper_id=paper_id, value=value, at=now))
    else:
        row.value, row.at = value, now
    session.flush()


def seed_papers(session: Session, sub: Subscriber, ids: Iterable[str], now: datetime) -> list[str]:
    """Record pasted arXiv ids or links as liked papers; return the ids understood."""
    found = list(dict.fromkeys(pid for pid in (arxiv_id(text) for text in ids) if pid))
    if len(found) > MAX_SEEDS:
        raise SubscriberError(f"At most {MAX_SEEDS} seed papers at once.", "seeds")
    for paper_id in found:
        record_feedback(session, sub, paper_id, 1, now)
    return found


def feedback_of(
    session: Session, subscriber_ids: Sequence[int]
) -> dict[int, tuple[list[str], list[str]]]:
    """Liked and disliked paper ids for many subscribers, in one query."""
    result: dict[int, tuple[list[str], list[str]]] = {sid: ([], []) for sid in subscriber_ids}
    if not subscriber_ids:
        return result
    rows = session.execute(
        select(Feedback.subscriber_id, Feedback.paper_id, Feedback.value)
        .where(Feedback.subscriber_id.in_(subscriber_ids))
        .order_by(Feedback.id)
    )
    for sid, paper_id, value in rows:
        liked, disliked = result[sid]
        (liked if value > 0 else disliked).append(paper_id)
    return result
