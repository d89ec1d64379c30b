"""Who is due when: local send time in each subscriber's time zone, daily or weekly cadence.

Catch-up rule: after downtime a subscriber gets today's edition late, never a backlog of old
editions (their candidates are everything new since their last edition anyway).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from digest.config import Settings

log = logging.getLogger(__name__)


class Schedulable(Protocol):
    timezone: str
    send_time: str
    cadence: str
    weekday: int
    last_edition: date | None


@dataclass(frozen=True)
class Due:
    """A subscriber whose edition is due, and that edition's (local) date."""

    subscriber: Any
    edition: date
    send_at: datetime


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown time zone %r, using UTC", name)
        return ZoneInfo("UTC")


def due_edition(sub: Schedulable, now: datetime) -> tuple[date, datetime] | None:
    """Return (edition date, local send moment) if `sub` is due at `now`, else None."""
    local = now.astimezone(_zone(sub.timezone))
    today = local.date()
    hour, minute = (int(part) for part in sub.send_time.split(":"))
    send_at = datetime.combine(today, time(hour, minute), tzinfo=local.tzinfo)
    if local < send_at:
        return None
    if sub.cadence == "weekly" and today.weekday() != sub.weekday:
        return None
    if sub.last_edition is not None and sub.last_edition >= today:
        return None
    return today, send_at


def due_subscribers(subscribers: Iterable[Schedulable], now: datetime) -> list[Due]:
    """The subscribers due at `now`, each with its edition."""
    due = []
    for sub in subscribers:
        found = due_edition(sub, now)
        if found is not None:
            due.append(Due(sub, *found))
    return due


def start_background(settings: Settings) -> Any:
    """Start the APScheduler jobs in a background thread (for `digest serve --with-scheduler`)."""
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(timezone="UTC")
    _add_jobs(scheduler, settings)
    scheduler.start()
    return scheduler


def run_forever(settings: Settings) -> None:
    """Run the scheduler in the foreground (for `digest schedule`)."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler(timezone="UTC")
    _add_jobs(scheduler, settings)
    log.info(
        "scheduler started: tick every %d min, fetch every %d min",
        settings.tick_minutes,
        settings.fetch_minutes,
    )
    scheduler.start()


def _add_jobs(scheduler: Any, settings: Settings) -> None:
    from digest import pipeline

    now = datetime.now().astimezone()
    scheduler.add_job(
        pipeline.safe_fetch,
        "interval",
        minutes=settings.fetch_minutes,
        args=[settings],
        id="fetch",
        next_run_time=now,
        max_instances=1,
        coalesce=True,
    )
    scheduler.add_job(
        pipeline.Ticker(settings),
        "interval",
        minutes=settings.tick_minutes,
        id="tick",
        next_run_time=now,
        max_instances=1,
        coalesce=True,
    )
