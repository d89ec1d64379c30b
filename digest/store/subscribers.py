"""Named queries for subscribers: sign-up, confirmation, interests, feedback, export, deletion.

Every function takes the caller's Session and leaves committing to it. Rule violations raise
SubscriberError with a message meant for the person who made the request.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from digest.config import Settings
from digest.emails import normalize_email
from digest.models import Delivery, Feedback, Interest, SentPaper, Subscriber, Suppression
from digest.store.feedback import feedback_of, record_feedback, seed_papers
from digest.store.subscriber_rules import (
    KINDS,
    SubscriberError,
    check_interests,
    check_settings,
    split_list,
)

__all__ = [
    "KINDS",
    "SubscriberError",
    "Suppressed",
    "feedback_of",
    "record_feedback",
    "seed_papers",
    "split_list",
]

CONFIRM_RESEND_MINUTES = 10


class Suppressed(SubscriberError):
    """The address asked to be forgotten or bounced: it is never mailed again."""


def email_hash(email: str) -> str:
    """Hash a normalized address for the suppression list (the address itself is not kept)."""
    return hashlib.sha256(email.encode("utf-8")).hexdigest()


def is_suppressed(session: Session, email: str) -> bool:
    """Whether an address is on the suppression list."""
    return session.get(Suppression, email_hash(normalize_email(email))) is not None


def get_subscriber(session: Session, subscriber_id: int) -> Subscriber | None:
    """The subscriber with this id, if any."""
    return session.get(Subscriber, subscriber_id)


def get_by_email(session: Session, email: str) -> Subscriber | None:
    """The subscriber with this address (normalized first), if any."""
    address = normalize_email(email)
    return session.scalars(select(Subscriber).where(Subscriber.email == address)).first()


def list_subscribers(session: Session) -> list[Subscriber]:
    """Every subscriber, oldest first."""
    return list(session.scalars(select(Subscriber).order_by(Subscriber.id)))


def create_subscriber(
    session: Session,
    email: str,
    *,
    settings: Settings,
    now: datetime,
    keywords: Iterable[str] = (),
    categories: Iterable[str] = (),
    authors: Iterable[str] = (),
    exclude: Iterable[str] = (),
    timezone: str | None = None,
    send_time: str | None = None,
    cadence: str = "daily",
    weekday: int | str = 0,
    max_papers: int | None = None,
    trending_weight: float | None = None,
    confirmed: bool = False,
) -> Subscriber:
    """Add a subscriber (pending, or active when confirmed); an existing address is returned as is.

    Settings left as None take the configured defaults. A suppressed address raises Suppressed.
    """
    address = normalize_email(email)
    if session.get(Suppression, email_hash(address)) is not None:
        raise Suppressed("This address asked never to be mailed again, so it cannot subscribe.")
    existing = get_by_email(session, address)
    if existing is not None:
        return existing
    sub = _new_subscriber(address, settings, now, confirmed)
    fields: dict[str, Any] = {"timezone": timezone, "send_time": send_time, "cadence": cadence}
    fields |= {"weekday": weekday, "max_papers": max_papers, "trending_weight": trending_weight}
    given = {key: value for key, value in fields.items() if value is not None}
    for key, value in check_settings(given).items():
        setattr(sub, key, value)
    for kind, values in zip(KINDS, (keywords, categories, authors, exclude), strict=True):
        sub.interests.extend(Interest(kind=kind, value=v) for v in check_interests(kind, values))
    session.add(sub)
    session.flush()
    return sub


def _new_subscriber(address: str, settings: Settings, now: datetime, confirmed: bool) -> Subscriber:
    return Subscriber(
        email=address,
        status="active" if confirmed else "pending",
        timezone=settings.default_timezone,
        send_time=settings.default_send_time,
        cadence="daily",
        weekday=0,
        max_papers=settings.default_max_papers,
        min_score=settings.default_min_score,
        trending_weight=settings.default_trending_weight,
        category_mode="boost",
        token_version=1,
        bounce_count=0,
        created_at=now,
        confirmed_at=now if confirmed else None,
        interests=[],
    )


def claim_confirmation(sub: Subscriber, now: datetime, *, created: bool) -> bool:
    """Whether to send a confirmation email now; records the send, at most one per window.

    An unsubscribed address asking again becomes pending (it gets nothing but the
    confirmation). For a pending subscriber created_at is moved to each confirmation sent, so a
    flood of requests for one address mails it once per CONFIRM_RESEND_MINUTES.
    """
    if sub.status == "unsubscribed":
        sub.status, sub.created_at = "pending", now
        return True
    if sub.status != "pending":
        return False
    if created:
        return True
    if _aware(now) - _aware(sub.created_at) < timedelta(minutes=CONFIRM_RESEND_MINUTES):
        return False
    sub.created_at = now
    return True


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def confirm(session: Session, sub: Subscriber, now: datetime) -> Subscriber:
    """Activate a pending (or unsubscribed) subscriber; confirming twice changes nothing."""
    if sub.status in ("pending", "unsubscribed"):
        sub.status = "active"
        sub.confirmed_at = sub.confirmed_at or now
        sub.unsubscribed_at = None
    return sub


def unsubscribe(session: Session, sub: Subscriber, now: datetime) -> Subscriber:
    """Stop all mail to a subscriber; idempotent."""
    if sub.status != "unsubscribed":
        sub.status = "unsubscribed"
        sub.unsubscribed_at = now
    return sub


def resubscribe(session: Session, sub: Subscriber, now: datetime) -> Subscriber:
    """Undo an unsubscribe (the person proved they hold a link sent to the address)."""
    if sub.status == "unsubscribed":
        sub.status = "active"
        sub.unsubscribed_at = None
        sub.confirmed_at = sub.confirmed_at or now
    return sub


def interests_by_kind(sub: Subscriber) -> dict[str, list[str]]:
    """The profile lines of a subscriber, grouped: keyword, category, author, exclude."""
    grouped: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for interest in sorted(sub.interests, key=lambda i: i.id or 0):
        grouped.setdefault(interest.kind, []).append(interest.value)
    return grouped


def set_interests(session: Session, sub: Subscriber, kind: str, values: Iterable[str]) -> None:
    """Replace every interest of one kind with `values` (validated, de-duplicated)."""
    wanted = check_interests(kind, values)
    current = {i.value: i for i in sub.interests if i.kind == kind}
    for value, interest in current.items():
        if value not in wanted:
            sub.interests.remove(interest)
    sub.interests.extend(Interest(kind=kind, value=v) for v in wanted if v not in current)
    session.flush()


def update_settings(session: Session, sub: Subscriber, **fields: Any) -> Subscriber:
    """Change delivery settings after validating every field (nothing changes on error)."""
    for key, value in check_settings(fields).items():
        setattr(sub, key, value)
    return sub


def revoke_links(session: Session, sub: Subscriber) -> None:
    """Invalidate every link sent so far by bumping the token version."""
    sub.token_version += 1


def export_subscriber(session: Session, sub: Subscriber) -> dict[str, Any]:
    """Everything held about a subscriber, as plain JSON-ready data."""
    liked, disliked = feedback_of(session, [sub.id])[sub.id]
    deliveries = session.scalars(
        select(Delivery).where(Delivery.subscriber_id == sub.id).order_by(Delivery.edition)
    )
    return {
        "email": sub.email,
        "status": sub.status,
        "created_at": _iso(sub.created_at),
        "confirmed_at": _iso(sub.confirmed_at),
        "unsubscribed_at": _iso(sub.unsubscribed_at),
        "settings": settings_of(sub),
        "interests": interests_by_kind(sub),
        "feedback": {"liked": liked, "disliked": disliked},
        "deliveries": [_delivery_summary(d) for d in deliveries],
    }


def settings_of(sub: Subscriber) -> dict[str, Any]:
    """The delivery settings of a subscriber as a plain dict."""
    return {
        "timezone": sub.timezone,
        "send_time": sub.send_time,
        "cadence": sub.cadence,
        "weekday": sub.weekday,
        "max_papers": sub.max_papers,
        "min_score": sub.min_score,
        "trending_weight": sub.trending_weight,
        "category_mode": sub.category_mode,
    }


def delivery_for(session: Session, subscriber_id: int, edition: date) -> Delivery | None:
    """One subscriber's delivery of one edition, if it was made."""
    query = select(Delivery).where(
        Delivery.subscriber_id == subscriber_id, Delivery.edition == edition
    )
    return session.scalars(query).first()


def _delivery_summary(delivery: Delivery) -> dict[str, Any]:
    return {
        "edition": delivery.edition.isoformat(),
        "state": delivery.state,
        "sent_at": _iso(delivery.sent_at),
        "papers": [item.get("id") for item in delivery.items or []],
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def delete_subscriber(session: Session, sub: Subscriber, now: datetime) -> None:
    """Erase a subscriber and their data; keep only the address hash so it is never mailed."""
    digest_hash = email_hash(sub.email)
    if session.get(Suppression, digest_hash) is None:
        session.add(Suppression(email_hash=digest_hash, reason="deleted", at=now))
    for table in (Feedback, SentPaper, Delivery):
        session.execute(delete(table).where(table.subscriber_id == sub.id))
    session.delete(sub)
    session.flush()
