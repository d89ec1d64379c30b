"""The "your digest today would be" preview, from the real ranking code over recent papers.

Fitting the features is the costly part, so each web process keeps the fitted scorer of the
recent pool for a few minutes and ranks every preview against it; a preview may thus miss
papers fetched in the last minutes, which is fine for a preview.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from digest.editions import profile_for
from digest.models import Paper, Subscriber
from digest.ranking import Profile, Ranked
from digest.ranking.score import Scorer
from digest.ranking.semantic import CachedEmbedder
from digest.ranking.text import embed_text
from digest.store import papers as paper_store
from digest.store.subscribers import feedback_of

PREVIEW_WINDOW = timedelta(days=3)
REFIT_SECONDS = 300
SCORERS_PER_POOL = 4  # each holds a pool x pool similarity matrix


@dataclass
class _Pool:
    """The recent papers of one refit period, and scorers fitted on them (+ liked papers)."""

    bucket: int
    moment: datetime
    papers: list[Paper]
    by_id: dict[str, Paper]
    scorers: OrderedDict[tuple[str, ...], Scorer] = field(default_factory=OrderedDict)


class PreviewCache:
    """Per-process fitted scorers. A stale pool keeps serving while one thread refits it."""

    def __init__(
        self, sessions: sessionmaker[Session], embed: CachedEmbedder | None = None
    ) -> None:
        self._sessions = sessions
        self._embed = embed
        self._lock = threading.Lock()  # ranking registers items on the scorer: one at a time
        self._pool: _Pool | None = None
        self._refitting = False

    def rank(self, session: Session, profile: Profile, now: datetime) -> tuple[_Pool, list[Ranked]]:
        """Rank the recent pool for one profile."""
        pool = self._pool_for(session, now)
        if not pool.papers:
            return pool, []
        with self._lock:
            scorer = self._scorer(session, pool, [*profile.liked, *profile.disliked])
            return pool, scorer.rank([profile], top_k=profile.max_papers, exclude_ids=None)[0]

    def _pool_for(self, session: Session, now: datetime) -> _Pool:
        bucket = int(now.timestamp()) // REFIT_SECONDS
        with self._lock:
            pool = self._pool
            if pool is not None and (pool.bucket == bucket or self._refitting):
                return pool
            if pool is not None:
                self._refitting = True
                threading.Thread(target=self._refit, args=(bucket,), daemon=True).start()
                return pool
        fresh = _fit(session, bucket, self._embed)
        with self._lock:
            self._pool = fresh
        return fresh

    def _refit(self, bucket: int) -> None:
        try:
            with self._sessions() as session:
                fresh = _fit(session, bucket, self._embed)
            with self._lock:
                self._pool = fresh
        finally:
            self._refitting = False

    def _scorer(self, session: Session, pool: _Pool, feedback_ids: list[str]) -> Scorer:
        outside = tuple(sorted(pid for pid in feedback_ids if pid not in pool.by_id))
        scorer = pool.scorers.get(outside)
        if scorer is None:
            history = paper_store.papers_by_ids(session, list(outside)) if outside else []
            embed = _warm(self._embed, [*pool.papers, *history])
            scorer = Scorer(
                pool.papers, history, now=pool.moment, upvote_velocity=None, embed=embed
            )
            pool.scorers[outside] = scorer
            if len(pool.scorers) > SCORERS_PER_POOL:
                pool.scorers.popitem(last=False)
        pool.scorers.move_to_end(outside)
        return scorer


def _warm(embed: CachedEmbedder | None, papers: list[Paper]) -> CachedEmbedder | None:
    """The embedder only when every paper is already encoded (by the pipeline): a page never
    waits for the model; until then previews rank without embeddings."""
    return embed if embed is not None and embed.knows([embed_text(p) for p in papers]) else None


def _fit(session: Session, bucket: int, embed: CachedEmbedder | None) -> _Pool:
    """Load the recent papers and fit the scorer shared by profiles without older likes."""
    moment = datetime.fromtimestamp(bucket * REFIT_SECONDS, UTC)
    papers = paper_store.candidate_papers(session, moment - PREVIEW_WINDOW)
    pool = _Pool(bucket, moment, papers, {p.id: p for p in papers})
    if papers:
        pool.scorers[()] = Scorer(
            papers, [], now=moment, upvote_velocity=None, embed=_warm(embed, papers)
        )
    return pool


def profile_with(sub: Subscriber, session: Session, changes: dict[str, Any]) -> Profile:
    """The subscriber's stored profile with unsaved form values laid over it."""
    liked, disliked = feedback_of(session, [sub.id])[sub.id]
    return replace(profile_for(sub, liked, disliked), **changes)


def preview(
    cache: PreviewCache, session: Session, profile: Profile, now: datetime
) -> dict[str, Any]:
    """Plain data for the page and the JSON endpoint: the papers that clear the bar."""
    pool, ranked = cache.rank(session, profile, now)
    items = [_item(pool.by_id[r.id], r) for r in ranked if r.above_min and r.id in pool.by_id]
    return {"considered": len(pool.papers), "items": items}


def _item(paper: Paper, ranked: Ranked) -> dict[str, Any]:
    return {
        "id": paper.id,
        "title": paper.title,
        "url": paper.abs_url or f"https://arxiv.org/abs/{paper.id}",
        "authors": ", ".join((paper.authors or [])[:4]),
        "reasons": "; ".join(ranked.reasons),
        "score": round(float(ranked.score), 3),
    }
