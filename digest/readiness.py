"""Is today's data in? Per-source status for operators, and readiness for the scheduler.

On a day arXiv announces, each arXiv listing source must have brought a changed, non-empty feed
since the feeds carried that day's listing (midnight US Eastern); otherwise it is stale and
sends wait (up to stale_deadline_hours). On a day without a listing (weekend, holiday) nothing
is expected: a quiet day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from digest.announcements import (
    expected_listing,
    feed_moment,
    is_announcement_day,
    listing_date_for,
)
from digest.config import Settings
from digest.models import SourceState
from digest.sources import PaperIn
from digest.sources_config import Source, load_sources
from digest.store import papers as paper_store


@dataclass(frozen=True, slots=True)
class Readiness:
    """Whether sends may go now; which sources are stale; whether today has no listing."""

    ready: bool
    stale: list[str]
    quiet_day: bool
    listing: date


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """One line of `digest status` for a source."""

    name: str
    kind: str
    last_ok_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    items: int
    today: str  # listings: "in" | "waiting" | "quiet day"; others: "fetched" | "not yet"


def source_readiness(session: Session, now: datetime, settings: Settings) -> Readiness:
    """Say whether today's arXiv listings are in for every configured listing source."""
    listing = expected_listing(now)
    if not is_announcement_day(listing):
        return Readiness(True, [], True, listing)
    states = paper_store.source_states(session)
    release = feed_moment(listing)
    stale = [
        source.name
        for source in load_sources(settings.sources_file)
        if source.kind == "arxiv_listing" and not _fresh(states.get(source.name), release)
    ]
    return Readiness(not stale, stale, False, listing)


def _fresh(state: SourceState | None, release: datetime) -> bool:
    return bool(state and state.last_new_at and paper_store.as_utc(state.last_new_at) >= release)


def listing_today(state: SourceState, now: datetime) -> str:
    """Say whether a listing source has today's listing: "in", "waiting" or "quiet day"."""
    listing = expected_listing(now)
    if not is_announcement_day(listing):
        return "quiet day"
    return "in" if _fresh(state, feed_moment(listing)) else "waiting"


def _fetched_today(state: SourceState, now: datetime) -> str:
    """Other sources promise no daily listing: say only whether they were fetched today."""
    return "fetched" if _fresh_ok(state, feed_moment(expected_listing(now))) else "not yet"


def _fresh_ok(state: SourceState, since: datetime) -> bool:
    return bool(state.last_ok_at and paper_store.as_utc(state.last_ok_at) >= since)


def carries_current_listing(papers: list[PaperIn], now: datetime) -> bool:
    """Say whether listing items carry the newest listing date (undated items: assume so)."""
    dates = [p.announced for p in papers if p.announced]
    return not dates or max(dates) >= listing_date_for(now)


def sources_status(
    session: Session, now: datetime, sources: list[Source] | None = None
) -> list[SourceStatus]:
    """Return per source: last success, last error, and whether today's data is in."""
    states = paper_store.source_states(session)
    kinds = {source.name: source.kind for source in sources or []}
    names = list(kinds) + sorted(set(states) - set(kinds))
    return [_status(name, kinds.get(name, "?"), states.get(name), now) for name in names]


def _status(name: str, kind: str, state: SourceState | None, now: datetime) -> SourceStatus:
    if state is None:
        return SourceStatus(name, kind, None, None, None, 0, "never fetched")
    today = listing_today(state, now) if kind == "arxiv_listing" else _fetched_today(state, now)
    return SourceStatus(
        name,
        kind,
        paper_store.as_utc(state.last_ok_at) if state.last_ok_at else None,
        state.last_error,
        paper_store.as_utc(state.last_error_at) if state.last_error_at else None,
        state.items_seen,
        today,
    )
