"""Who is due when: local send times, cadence, DST, time zone changes, missed days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from digest.schedule import due_edition, due_subscribers


@dataclass
class Sub:
    timezone: str = "Europe/Berlin"
    send_time: str = "07:00"
    cadence: str = "daily"
    weekday: int = 0
    last_edition: date | None = None


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_subscriber_is_due_at_their_local_send_time():
    sub = Sub()  # 07:00 in Berlin is 06:00 UTC in winter
    assert due_edition(sub, at("2025-01-15T05:59")) is None
    edition, _ = due_edition(sub, at("2025-01-15T06:00"))
    assert edition == date(2025, 1, 15)


def test_the_send_time_follows_daylight_saving_time():
    sub = Sub()  # in summer 07:00 Berlin is 05:00 UTC
    assert due_edition(sub, at("2025-07-15T04:59")) is None
    assert due_edition(sub, at("2025-07-15T05:00")) is not None


def test_the_day_the_clocks_change_still_has_exactly_one_edition():
    sub = Sub(timezone="America/New_York", send_time="02:30")  # 02:30 does not exist on 9 March
    edition, _ = due_edition(sub, at("2025-03-09T07:31"))
    assert edition == date(2025, 3, 9)
    sub.last_edition = edition
    assert due_edition(sub, at("2025-03-09T23:00")) is None


def test_an_edition_already_sent_today_is_not_due_again():
    sub = Sub(last_edition=date(2025, 1, 15))
    assert due_edition(sub, at("2025-01-15T12:00")) is None
    assert due_edition(sub, at("2025-01-16T06:00")) is not None


def test_moving_west_across_the_date_line_sends_no_second_copy_of_a_day():
    sub = Sub(timezone="Asia/Tokyo", last_edition=date(2025, 1, 16))  # got Tokyo's 16 January
    sub.timezone = "America/Los_Angeles"
    assert due_edition(sub, at("2025-01-16T16:00")) is None  # 08:00 on 16 January in LA
    assert due_edition(sub, at("2025-01-17T15:00")) is not None  # 07:00 on 17 January


def test_after_downtime_only_todays_edition_is_sent_late():
    sub = Sub(last_edition=date(2025, 1, 12))  # the scheduler was down for two days
    edition, _ = due_edition(sub, at("2025-01-15T18:00"))
    assert edition == date(2025, 1, 15)


def test_a_weekly_subscriber_is_due_only_on_their_weekday():
    sub = Sub(cadence="weekly", weekday=2)  # Wednesday
    assert due_edition(sub, at("2025-01-14T12:00")) is None  # Tuesday
    assert due_edition(sub, at("2025-01-15T12:00")) is not None  # Wednesday


def test_due_subscribers_lists_only_the_due_ones():
    early, late = Sub(send_time="05:00"), Sub(send_time="09:00")
    due = due_subscribers([early, late], at("2025-01-15T06:00"))
    assert [d.subscriber for d in due] == [early]


def test_the_scheduler_tick_sends_at_local_morning_across_a_dst_change(settings, sessions, smtp):
    """A frozen clock walks a Berlin subscriber through the night the clocks go forward."""
    import time_machine

    from digest import db
    from digest.pipeline import Ticker
    from digest.sources import PaperIn
    from digest.store import papers as paper_store
    from digest.store import subscribers as subscriber_store

    with db.session_scope(sessions) as session:
        subscriber_store.create_subscriber(
            session,
            "alice@example.org",
            settings=settings,
            now=at("2025-03-29T12:00"),
            keywords=["diffusion"],
            timezone="Europe/Berlin",
            send_time="07:00",
            confirmed=True,
        )
    ticker = Ticker(settings)
    for day, utc_send in [("2025-03-29", "06:00"), ("2025-03-30", "05:00")]:  # CET, then CEST
        with db.session_scope(sessions) as session:
            paper = PaperIn(
                id=f"2503.{day[-2:]}001",
                title="Diffusion models",
                source="arxiv",
                abstract="Denoising diffusion models.",
            )
            paper_store.upsert_papers(session, [paper], at(f"{day}T00:00"))
        hour, minute = (int(x) for x in utc_send.split(":"))
        with time_machine.travel(at(f"{day}T{hour - 1:02d}:59"), tick=False):
            assert ticker() and len(smtp.received) == (0 if day.endswith("29") else 1)
        with time_machine.travel(at(f"{day}T{utc_send}"), tick=False):
            assert ticker()
    assert [m.message["To"] for m in smtp.received] == ["alice@example.org"] * 2
