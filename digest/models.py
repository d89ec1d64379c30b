"""The tables (SQLAlchemy 2 typed models). No queries and no I/O live here: see store.py."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON, list[dict[str, Any]]: JSON}


def _tz() -> DateTime:
    return DateTime(timezone=True)


class Paper(Base):
    """One paper, keyed by its version-less arXiv id, else a normalized DOI or URL."""

    __tablename__ = "papers"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    abstract: Mapped[str] = mapped_column(Text, default="")
    authors: Mapped[list[str]] = mapped_column(default=list)
    categories: Mapped[list[str]] = mapped_column(default=list)
    primary_category: Mapped[str | None] = mapped_column(String(32))
    published: Mapped[date | None] = mapped_column(Date)
    announced: Mapped[date | None] = mapped_column(Date, index=True)
    abs_url: Mapped[str | None] = mapped_column(Text)
    pdf_url: Mapped[str | None] = mapped_column(Text)
    code_url: Mapped[str | None] = mapped_column(Text)
    project_url: Mapped[str | None] = mapped_column(Text)
    doi: Mapped[str | None] = mapped_column(String(255))
    journal_ref: Mapped[str | None] = mapped_column(Text)
    license: Mapped[str | None] = mapped_column(Text)
    comment: Mapped[str | None] = mapped_column(Text)
    upvotes: Mapped[int | None] = mapped_column(Integer)
    comments: Mapped[int | None] = mapped_column(Integer)
    github_stars: Mapped[int | None] = mapped_column(Integer)
    ai_keywords: Mapped[list[str]] = mapped_column(default=list)
    sources: Mapped[list[str]] = mapped_column(default=list)
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)
    first_seen_at: Mapped[datetime] = mapped_column(_tz(), index=True)
    updated_at: Mapped[datetime] = mapped_column(_tz())


class UpvoteSnapshot(Base):
    """Upvotes of a paper at one fetch, so trending can use velocity."""

    __tablename__ = "upvote_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    paper_id: Mapped[str] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(_tz())
    upvotes: Mapped[int] = mapped_column(Integer)


class Subscriber(Base):
    """A person on the list, with the knobs of their digest."""

    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    send_time: Mapped[str] = mapped_column(String(5), default="07:00")
    cadence: Mapped[str] = mapped_column(String(8), default="daily")
    weekday: Mapped[int] = mapped_column(Integer, default=0)
    max_papers: Mapped[int] = mapped_column(Integer, default=10)
    min_score: Mapped[float] = mapped_column(Float, default=0.12)
    trending_weight: Mapped[float] = mapped_column(Float, default=0.2)
    category_mode: Mapped[str] = mapped_column(String(8), default="boost")
    token_version: Mapped[int] = mapped_column(Integer, default=1)
    bounce_count: Mapped[int] = mapped_column(Integer, default=0)
    last_edition: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(_tz())
    confirmed_at: Mapped[datetime | None] = mapped_column(_tz())
    unsubscribed_at: Mapped[datetime | None] = mapped_column(_tz())

    interests: Mapped[list[Interest]] = relationship(
        back_populates="subscriber", cascade="all, delete-orphan", lazy="selectin"
    )


class Interest(Base):
    """One line of a profile: keyword, category, author or exclude."""

    __tablename__ = "interests"
    __table_args__ = (UniqueConstraint("subscriber_id", "kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(255))
    weight: Mapped[float] = mapped_column(Float, default=1.0)

    subscriber: Mapped[Subscriber] = relationship(back_populates="interests")


class Feedback(Base):
    """A "more like this" (+1) or "less like this" (-1), or a seed paper (+1)."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("subscriber_id", "paper_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    paper_id: Mapped[str] = mapped_column(String(255))
    value: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(_tz())


class SentPaper(Base):
    """A paper already sent to a subscriber: never send it again."""

    __tablename__ = "sent_papers"

    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True
    )
    paper_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    edition: Mapped[date] = mapped_column(Date)


class Delivery(Base):
    """One edition for one subscriber: queued -> sending -> sent | retry | failed | suppressed."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("subscriber_id", "edition"),
        Index("ix_deliveries_state_next", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    edition: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(12), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    items: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    considered: Mapped[int] = mapped_column(Integer, default=0)
    message_id: Mapped[str | None] = mapped_column(String(255))
    last_code: Mapped[int | None] = mapped_column(Integer)
    last_reply: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    next_attempt_at: Mapped[datetime | None] = mapped_column(_tz())
    created_at: Mapped[datetime] = mapped_column(_tz())
    updated_at: Mapped[datetime] = mapped_column(_tz())
    sent_at: Mapped[datetime | None] = mapped_column(_tz())


class SourceState(Base):
    """What we know of one source between fetches (conditional GET, staleness)."""

    __tablename__ = "source_state"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    url: Mapped[str | None] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    last_ok_at: Mapped[datetime | None] = mapped_column(_tz())
    last_new_at: Mapped[datetime | None] = mapped_column(_tz())
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(_tz())
    items_seen: Mapped[int] = mapped_column(Integer, default=0)


class Suppression(Base):
    """An address that must never be mailed again, kept only as a hash."""

    __tablename__ = "suppressions"

    email_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(_tz())


class Run(Base):
    """One tick: per-stage counts and timings."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(_tz(), index=True)
    finished_at: Mapped[datetime | None] = mapped_column(_tz())
    status: Mapped[str] = mapped_column(String(16), default="running")
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    timings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)
