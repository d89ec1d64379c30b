"""Named queries for the run log: one row per tick with per-stage counts and timings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from digest.models import Run


def start_run(session: Session, now: datetime) -> int:
    """Open a run row and return its id."""
    run = Run(started_at=now, status="running", counts={}, timings={})
    session.add(run)
    session.flush()
    return run.id


def finish_run(
    session: Session,
    run_id: int,
    now: datetime,
    status: str,
    counts: dict[str, Any],
    timings: dict[str, float],
    error: str | None = None,
) -> None:
    """Close a run row with what the tick did."""
    run = session.get(Run, run_id)
    if run is None:
        return
    run.finished_at, run.status, run.error = now, status, error
    run.counts, run.timings = counts, timings


def recent_runs(session: Session, limit: int = 10) -> list[Run]:
    """The latest runs, newest first."""
    return list(session.scalars(select(Run).order_by(Run.started_at.desc()).limit(limit)))
