"""Trending scores and MMR selection, both vectorized over all profiles of a chunk."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import numpy as np

UPVOTES_SCALE = math.log1p(50)  # 50 upvotes already counts as fully trending
VELOCITY_SCALE = math.log1p(20)  # 20 upvotes an hour likewise
RECENCY_HALF_LIFE_DAYS = 3.0
MMR_LAMBDA = 0.8  # 1 = pure score; lower spreads the digest over more subtopics
MMR_POOL = 3  # candidates considered per digest slot


def trending(
    papers: Sequence[Any],
    keys: Sequence[str],
    now: datetime | None,
    velocity: Mapping[str, float] | None,
) -> np.ndarray:
    """What everyone is reading: log upvotes, their velocity and recency, in [0, 1]."""
    upvotes = np.array([math.log1p(max(p.upvotes or 0, 0)) for p in papers], np.float32)
    recent = _recency(papers, now)
    parts = [(0.75, np.minimum(upvotes / UPVOTES_SCALE, 1.0)), (0.25, recent)]
    if velocity:
        per_hour = [
            math.log1p(max(velocity.get(k, velocity.get(p.id, 0.0)), 0.0))
            for p, k in zip(papers, keys, strict=True)
        ]
        parts = [
            (0.55, parts[0][1]),
            (0.25, np.minimum(np.array(per_hour) / VELOCITY_SCALE, 1)),
            (0.2, recent),
        ]
    return sum(weight * values for weight, values in parts).astype(np.float32)


def _recency(papers: Sequence[Any], now: datetime | None) -> np.ndarray:
    """1 for today's papers, halving every few days; unknown dates count as today."""
    today = (now or datetime.now()).date()
    ages = [_age(getattr(p, "published", None), today) for p in papers]
    return np.power(0.5, np.array(ages, np.float32) / RECENCY_HALF_LIFE_DAYS)


def _age(published: Any, today: date) -> float:
    if isinstance(published, datetime):
        published = published.date()
    if not isinstance(published, date):
        return 0.0
    return float(max((today - published).days, 0))


def mmr_select(score: np.ndarray, paper_sims: np.ndarray, k: int) -> np.ndarray:
    """Pick k papers per row by maximal marginal relevance; -1 where fewer remain.

    `score` is profiles x papers with -inf for papers that may not be picked.
    """
    n, n_papers = score.shape
    depth = min(n_papers, max(k * MMR_POOL, k))
    if depth == 0 or k == 0:
        return np.full((n, k), -1)
    cand = (
        np.argpartition(-score, depth - 1, axis=1)[:, :depth]
        if depth < n_papers
        else (np.broadcast_to(np.arange(n_papers), (n, n_papers)).copy())
    )
    cand_score = np.take_along_axis(score, cand, axis=1)
    pair = paper_sims[cand[:, :, None], cand[:, None, :]]
    available = np.isfinite(cand_score)
    closest = np.zeros_like(cand_score)
    picks = np.full((n, k), -1)
    rows = np.arange(n)
    for slot in range(min(k, depth)):
        value = np.where(available, MMR_LAMBDA * cand_score - (1 - MMR_LAMBDA) * closest, -np.inf)
        best = value.argmax(axis=1)
        ok = available[rows, best]
        picks[:, slot] = np.where(ok, cand[rows, best], -1)
        available[rows, best] = False
        closest = np.maximum(closest, pair[rows, best])
    return picks
