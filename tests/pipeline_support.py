"""Shared setup for tests that run whole ticks: one paper, and subscribers who want it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from digest import db
from digest.sources import PaperIn
from digest.store import papers as paper_store
from digest.store import subscribers as subscriber_store


def seed_diffusion_day(settings, sessions, people: Iterable[str], now: datetime) -> None:
    """Store one diffusion-models paper and confirmed subscribers due at 08:00 UTC who want it."""
    with db.session_scope(sessions) as session:
        paper = PaperIn(
            id="2503.00001",
            title="Diffusion models for images",
            source="arxiv",
            abstract="Denoising diffusion models generate images.",
        )
        paper_store.upsert_papers(session, [paper], now)
        for email in people:
            subscriber_store.create_subscriber(
                session, email, settings=settings, now=now, keywords=["diffusion models"],
                send_time="08:00", confirmed=True,
            )  # fmt: skip
