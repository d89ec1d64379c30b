"""The announcement calendar knows weekends, holidays and the evening release."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from digest.announcements import (
    EASTERN,
    announcement_moment,
    expected_listing,
    feed_moment,
    is_announcement_day,
    listing_date_for,
)


@pytest.mark.parametrize(
    ("day", "announced"),
    [
        (date(2025, 3, 14), True),  # Friday
        (date(2025, 3, 15), False),  # Saturday
        (date(2025, 3, 16), False),  # Sunday
        (date(2025, 3, 17), True),  # Monday
        (date(2025, 11, 27), False),  # Thanksgiving
        (date(2025, 12, 25), False),  # Christmas
        (date(2026, 7, 3), False),  # Independence Day, observed
        (date(2027, 12, 24), False),  # Christmas, observed
    ],
)
def test_listing_dates_are_weekdays_except_holidays(day: date, announced: bool) -> None:
    assert is_announcement_day(day) is announced


def test_listing_is_announced_the_evening_before_and_in_the_feeds_at_midnight() -> None:
    assert announcement_moment(date(2025, 3, 14)) == datetime(2025, 3, 13, 20, 0, tzinfo=EASTERN)
    assert feed_moment(date(2025, 3, 14)) == datetime(2025, 3, 14, 4, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "listing"),
    [
        (datetime(2025, 3, 14, 0, 1, tzinfo=UTC), date(2025, 3, 13)),  # Thu 20:01 EDT
        (datetime(2025, 3, 14, 4, 30, tzinfo=UTC), date(2025, 3, 14)),  # Fri 00:30 EDT
        (datetime(2025, 3, 15, 12, 0, tzinfo=UTC), date(2025, 3, 14)),  # Saturday
        (datetime(2025, 3, 17, 1, 0, tzinfo=UTC), date(2025, 3, 14)),  # Sunday 21:00 EDT
        (datetime(2025, 3, 17, 4, 1, tzinfo=UTC), date(2025, 3, 17)),  # Monday 00:01 EDT
        (datetime(2025, 11, 27, 15, 0, tzinfo=UTC), date(2025, 11, 26)),  # Thanksgiving
        (datetime(2025, 1, 6, 5, 30, tzinfo=UTC), date(2025, 1, 6)),  # Monday 00:30 EST
    ],
)
def test_listing_date_for_a_moment(now: datetime, listing: date) -> None:
    assert listing_date_for(now) == listing


def test_expected_listing_on_a_weekend_is_not_an_announcement_day() -> None:
    saturday_noon = datetime(2025, 3, 15, 16, 0, tzinfo=UTC)
    assert not is_announcement_day(expected_listing(saturday_noon))
