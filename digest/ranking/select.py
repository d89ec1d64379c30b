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
CATEGORY_BOOST = 0.15  # relevance a paper gains by being in one of your categories
MMR_LAMBDA = 0.8  # 1 = pure score; lower spreads the digest over more subtopics
MMR_OVERLAP = 0.3  # similarity below which two papers do not compete at all
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


def overlap(paper_sims: np.ndarray) -> np.ndarray:
    """How much two papers cover the same ground: 0 below MMR_OVERLAP, 1 for duplicates."""
    return np.clip((paper_sims - MMR_OVERLAP) / (1 - MMR_OVERLAP), 0, 1).astype(np.float32)


def mmr_select(score: np.ndarray, paper_overlap: np.ndarray, k: int) -> np.ndarray:
    """Pick k papers per row by maximal marginal relevance; -1 where fewer remain.

    `score` is profiles x papers with -inf for papers that may not be picked; `paper_overlap`
    comes from `overlap`, so papers merely on the same broad topic are not held back.
    """
    n, n_papers = score.shape
    depth = min(n_papers, k * MMR_POOL)
    if depth == 0:
        return np.full((n, k), -1)
    if depth < n_papers:
        cand = best_columns(score, depth)
    else:
        cand = np.broadcast_to(np.arange(n_papers), (n, n_papers))
    value = MMR_LAMBDA * np.take_along_axis(score, cand, axis=1)  # -inf stays -inf
    penalty = np.zeros(value.shape, np.float32)
    picks = np.full((n, k), -1)
    flat_sims, flat_cand = paper_overlap.ravel(), cand.ravel()
    at = np.arange(n) * depth  # flat offset of each row, so gathers are 1-D takes
    for slot in range(min(k, depth)):
        best = at + np.argmax(value - penalty, axis=1)
        chosen = flat_cand[best]
        picks[:, slot] = np.where(np.isfinite(value.ravel()[best]), chosen, -1)
        value.ravel()[best] = -np.inf
        near = flat_sims.take(chosen[:, None] * n_papers + cand)
        np.maximum(penalty, (1 - MMR_LAMBDA) * near, out=penalty)
    return picks


def best_columns(score: np.ndarray, depth: int) -> np.ndarray:
    """Each row's `depth` highest columns, in column order; of values tied at the cut, the first.

    Partitioning values and comparing is a third faster than partitioning indices.
    """
    cut = score.shape[1] - depth
    kth = np.partition(score, cut, axis=1)[:, cut, None]
    mask = score >= kth
    tied = np.count_nonzero(mask, axis=1) != depth
    if tied.any():
        rows, kth = score[tied], kth[tied]
        above, at = rows > kth, rows == kth
        room = depth - np.count_nonzero(above, axis=1, keepdims=True)
        mask[tied] = above | (at & (np.cumsum(at, axis=1) <= room))
    return np.nonzero(mask)[1].reshape(-1, depth)
