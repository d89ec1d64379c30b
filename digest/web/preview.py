"""The "your digest today would be" preview, from the real ranking code over recent papers."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from digest.editions import profile_for
from digest.models import Subscriber
from digest.ranking import Profile, rank
from digest.store import papers as paper_store
from digest.store.subscribers import feedback_of

PREVIEW_WINDOW = timedelta(days=3)


def profile_with(sub: Subscriber, session: Session, changes: dict[str, Any]) -> Profile:
    """The subscriber's stored profile with unsaved form values laid over it."""
    liked, disliked = feedback_of(session, [sub.id])[sub.id]
    profile = profile_for(sub, liked, disliked)
    return replace(profile, **changes)


def preview(session: Session, profile: Profile, now: datetime) -> dict[str, Any]:
    """Rank the recent papers for one profile; plain data for the page and the JSON endpoint."""
    papers = paper_store.candidate_papers(session, now - PREVIEW_WINDOW)
    liked = [*profile.liked, *profile.disliked]
    history = paper_store.papers_by_ids(session, liked) if liked else []
    ranked = rank(papers, [profile], history=history, now=now)[0] if papers else []
    by_id = {paper.id: paper for paper in papers}
    items = [_item(by_id[r.id], r) for r in ranked if r.above_min and r.id in by_id]
    return {"considered": len(papers), "items": items[: profile.max_papers]}


def _item(paper: Any, ranked: Any) -> dict[str, Any]:
    return {
        "id": paper.id,
        "title": paper.title,
        "url": paper.abs_url or f"https://arxiv.org/abs/{paper.id}",
        "authors": ", ".join((paper.authors or [])[:4]),
        "reasons": "; ".join(ranked.reasons),
        "score": round(float(ranked.score), 3),
    }
