"""Select and score: turn due subscribers into queued editions with their picked papers.

All due subscribers that share a candidate window are ranked in one vectorized call.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from digest.models import Paper, Subscriber
from digest.ranking import Profile, Ranked, rank
from digest.ranking.semantic import Embedder
from digest.schedule import Due
from digest.store import chunks
from digest.store import deliveries as delivery_store
from digest.store import papers as paper_store
from digest.store import subscribers as subscriber_store
from digest.store.deliveries import NewEdition

log = logging.getLogger(__name__)

FIRST_EDITION_LOOKBACK = {"daily": timedelta(days=2), "weekly": timedelta(days=8)}
NEAR_MISSES = 3
PICKS_SHOWN = 50  # editions whose picks a summary (the demo's) can print


@dataclass
class QueueStats:
    """What the select-and-score stage did."""

    due: int = 0
    queued: int = 0
    quiet: int = 0
    papers_considered: int = 0
    picks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # the first PICKS_SHOWN


def profile_for(sub: Subscriber, liked: Sequence[str], disliked: Sequence[str]) -> Profile:
    """The ranking profile of one subscriber, from their interests and feedback."""
    kinds = subscriber_store.interests_by_kind(sub)
    return Profile(
        id=str(sub.id),
        keywords=kinds.get("keyword", []),
        categories=kinds.get("category", []),
        authors=kinds.get("author", []),
        exclude=kinds.get("exclude", []),
        liked=list(liked),
        disliked=list(disliked),
        trending_weight=sub.trending_weight,
        min_score=sub.min_score,
        max_papers=sub.max_papers,
        category_mode=sub.category_mode,
    )


def queue_editions(
    session: Session,
    due: Sequence[Due],
    now: datetime,
    embed: Embedder | None = None,
    workers: int | None = None,
) -> QueueStats:
    """Rank candidates for every due subscriber and queue one edition each (idempotent).

    `embed`: sentence embeddings for ranking (`semantic.load_embedder`), or None.
    `workers`: processes ranking at once (default: one per CPU).
    """
    stats = QueueStats(due=len(due))
    if not due:
        return stats
    starts: dict[int, datetime] = {}
    sent: dict[int, set[str]] = {}
    feedback: dict[int, tuple[list[str], list[str]]] = {}
    for ids in chunks([d.subscriber.id for d in due]):
        starts.update(delivery_store.last_edition_starts(session, ids))
        sent.update(delivery_store.sent_paper_ids(session, ids))
        feedback.update(subscriber_store.feedback_of(session, ids))
    groups: dict[datetime, list[Due]] = defaultdict(list)
    for d in due:
        since = starts.get(d.subscriber.id) or now - FIRST_EDITION_LOOKBACK[d.subscriber.cadence]
        groups[since].append(d)
    for since, group in groups.items():
        _queue_group(session, group, since, sent, feedback, now, stats, embed, workers)
    return stats


def _queue_group(
    session: Session,
    group: list[Due],
    since: datetime,
    sent: dict[int, set[str]],
    feedback: dict[int, tuple[list[str], list[str]]],
    now: datetime,
    stats: QueueStats,
    embed: Embedder | None,
    workers: int | None,
) -> None:
    pool = paper_store.candidate_papers(session, since)
    if not pool:
        return  # nothing new at all: no edition yet; they stay due and get one when papers arrive
    profiles = [profile_for(d.subscriber, *feedback.get(d.subscriber.id, ([], []))) for d in group]
    history = _history(session, profiles)
    snapshots = paper_store.upvote_history(session, [p.id for p in pool if p.upvotes])
    ranked = rank(
        pool,
        profiles,
        history=history,
        exclude_ids=[sent.get(d.subscriber.id, set()) for d in group],
        now=now,
        upvote_velocity=upvote_velocity(snapshots),
        embed=embed,
        workers=workers,
    )
    stats.papers_considered = max(stats.papers_considered, len(pool))
    queued = [
        NewEdition(d.subscriber.id, d.edition, _items(results, d.subscriber.max_papers), len(pool))
        for d, results in zip(group, ranked, strict=True)
    ]
    created = delivery_store.create_editions(session, queued, now)
    titles = {p.id: p.title for p in pool}
    emails = {d.subscriber.id: d.subscriber.email for d in group}
    for edition in queued:
        if edition.subscriber_id not in created:
            continue
        stats.queued += 1
        stats.quiet += all(item.get("near_miss") for item in edition.items)
        if len(stats.picks) < PICKS_SHOWN:
            stats.picks[emails[edition.subscriber_id]] = [
                {**item, "title": titles.get(item["id"], "")} for item in edition.items
            ]


def upvote_velocity(snapshots: Mapping[str, list[tuple[datetime, int]]]) -> dict[str, float]:
    """Upvotes gained per day between each paper's last two snapshots (trending momentum)."""
    velocity = {}
    for paper_id, points in snapshots.items():
        if len(points) < 2:
            continue
        (before, was), (after, now) = points[-2], points[-1]
        days = max((after - before).total_seconds() / 86400, 1 / 24)  # at least an hour apart
        velocity[paper_id] = max(now - was, 0) / days
    return velocity


def _history(session: Session, profiles: Sequence[Profile]) -> list[Paper]:
    wanted = {pid for p in profiles for pid in (*p.liked, *p.disliked)}
    return paper_store.papers_by_ids(session, sorted(wanted)) if wanted else []


def _items(results: Sequence[Ranked], max_papers: int) -> list[dict[str, Any]]:
    """Picked papers above the subscriber's bar; on a quiet day, the best near misses instead."""
    picked = [r for r in results if r.above_min][:max_papers]
    if picked:
        return [_item(r) for r in picked]
    return [{**_item(r), "near_miss": True} for r in results[:NEAR_MISSES]]


def _item(r: Ranked) -> dict[str, Any]:
    return {"id": r.id, "score": r.score, "reasons": list(r.reasons)}  # rank() rounds scores
