"""arXiv's announcement calendar: which dates carry a new listing, and which listing is current.

arXiv announces Sunday to Thursday at 20:00 US Eastern; each announcement is the listing dated
the next day, so listings are dated Monday to Friday, and there is none on arXiv's holidays.
The listing feeds (rss.arxiv.org) are rebuilt at midnight Eastern, so the feed carries the
listing dated `d` from 00:00 Eastern on `d`: that is the moment digest waits for.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

EASTERN = ZoneInfo("America/New_York")
ANNOUNCE_TIME = time(20, 0)
FEED_TIME = time(0, 0)

# Listing dates with no announcement (US holidays arXiv observes, moved to the weekday observed).
HOLIDAYS = frozenset(
    date.fromisoformat(day)
    for day in (
        "2024-01-01", "2024-05-27", "2024-06-19", "2024-07-04", "2024-09-02", "2024-11-28",
        "2024-12-25",
        "2025-01-01", "2025-05-26", "2025-06-19", "2025-07-04", "2025-09-01", "2025-11-27",
        "2025-12-25",
        "2026-01-01", "2026-05-25", "2026-06-19", "2026-07-03", "2026-09-07", "2026-11-26",
        "2026-12-25",
        "2027-01-01", "2027-05-31", "2027-06-18", "2027-07-05", "2027-09-06", "2027-11-25",
        "2027-12-24", "2027-12-31",
    )
)  # fmt: skip


def is_announcement_day(day: date) -> bool:
    """Say whether a listing is dated `day` (a weekday that is not one of arXiv's holidays)."""
    return day.weekday() < 5 and day not in HOLIDAYS


def announcement_moment(day: date) -> datetime:
    """Return when arXiv announces the listing dated `day`: the evening before, 20:00 Eastern."""
    return datetime.combine(day - timedelta(days=1), ANNOUNCE_TIME, tzinfo=EASTERN)


def feed_moment(day: date) -> datetime:
    """Return when the listing feeds carry the listing dated `day`: midnight Eastern that day."""
    return datetime.combine(day, FEED_TIME, tzinfo=EASTERN)


def expected_listing(now: datetime) -> date:
    """Return the date the feeds' newest listing would carry at `now` if arXiv announced daily."""
    return now.astimezone(EASTERN).date()


def listing_date_for(now: datetime) -> date:
    """Return the date of the newest listing the feeds carry at `now`."""
    day = expected_listing(now)
    while not is_announcement_day(day):
        day -= timedelta(days=1)
    return day
