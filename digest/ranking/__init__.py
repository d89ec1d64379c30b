"""Rank a day's papers for many subscribers at once: relevance, trending, diversity, reasons.

The heavy work is done once per call on the unique "query items" (keywords, liked and disliked
papers) shared by all profiles; each profile is then a sparse row of weights over those items, so
scoring every subscriber is a chunked matrix product, never a loop per subscriber.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from digest.ranking.profile import profile_from_mapping
from digest.ranking.semantic import Embedder


class PaperLike(Protocol):
    """What ranking reads from a paper; the ORM `Paper` rows and `PaperIn` both fit."""

    id: str
    title: str
    abstract: str
    authors: list[str]
    categories: list[str]
    published: date | None
    upvotes: int | None


@dataclass
class Profile:
    """One subscriber's interests, as stored and as `digest rank` reads them."""

    id: str
    keywords: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    liked: list[str] = field(default_factory=list)
    disliked: list[str] = field(default_factory=list)
    trending_weight: float = 0.2
    min_score: float = 0.12
    max_papers: int = 10
    category_mode: str = "boost"

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], default_id: str = "profile") -> Profile:
        """Build a profile from the TOML/JSON format; lists may be comma-separated strings."""
        return cls(**profile_from_mapping(data, default_id))

    @property
    def is_empty(self) -> bool:
        """True when nothing personal is known, so the digest is what everyone reads."""
        return not (self.keywords or self.categories or self.authors or self.liked)


@dataclass(slots=True)
class Ranked:
    """One paper in one subscriber's ranking, with the numbers' reasons (scores to 4 places)."""

    id: str
    score: float
    relevance: float
    reasons: list[str]
    above_min: bool


def rank(
    papers: Sequence[PaperLike],
    profiles: Sequence[Profile],
    *,
    history: Sequence[PaperLike] = (),
    top_k: int | None = None,
    exclude_ids: Sequence[Collection[str]] | None = None,
    now: datetime | None = None,
    upvote_velocity: Mapping[str, float] | None = None,
    embed: Embedder | None = None,
    workers: int | None = None,
) -> list[list[Ranked]]:
    """For each profile, its papers ranked best first (top_k or profile.max_papers), diversified.

    `history`: papers that may be liked/disliked (their text is needed), never candidates.
    `exclude_ids[i]`: ids already sent to profile i (never returned, whatever the version).
    Results include papers below min_score (above_min False) so callers can show near misses.
    `embed`: sentence embeddings to blend in (`semantic.load_embedder`); None ranks without.
    `workers`: processes ranking at once (default: one per CPU).
    """
    from digest.ranking.score import collector_paused

    chunks = rank_chunks(
        papers,
        profiles,
        history=history,
        top_k=top_k,
        exclude_ids=exclude_ids,
        now=now,
        upvote_velocity=upvote_velocity,
        embed=embed,
        workers=workers,
    )
    with collector_paused():  # until the results are all made; see `collector_paused`
        results = [ranked for chunk in chunks for ranked in chunk]
    return results


def rank_chunks(
    papers: Sequence[PaperLike],
    profiles: Sequence[Profile],
    *,
    history: Sequence[PaperLike] = (),
    top_k: int | None = None,
    exclude_ids: Sequence[Collection[str]] | None = None,
    now: datetime | None = None,
    upvote_velocity: Mapping[str, float] | None = None,
    embed: Embedder | None = None,
    chunk_size: int = 5_000,
    workers: int | None = None,
) -> Iterator[list[list[Ranked]]]:
    """Yield `rank` results a chunk of profiles at a time, so huge lists stay in bounded memory.

    Chunks are ranked by `workers` processes (default: one per CPU), and yielded in order. The
    cycle collector stays paused until the last chunk is taken: results are acyclic, and each
    collection would rescan every result still held.
    """
    from digest.ranking.parallel import available_cpus, ordered_map
    from digest.ranking.reasons import Picks
    from digest.ranking.score import Scorer, collector_paused

    if not profiles:
        return
    if not papers:
        for start in range(0, len(profiles), chunk_size):
            yield [[] for _ in profiles[start : start + chunk_size]]
        return
    with collector_paused():
        scorer = Scorer(papers, history, now=now, upvote_velocity=upvote_velocity, embed=embed)

        def rank_chunk(index: int) -> Picks:
            start, stop = index * chunk_size, (index + 1) * chunk_size
            excluded = exclude_ids[start:stop] if exclude_ids is not None else None
            return scorer.picks(profiles[start:stop], top_k=top_k, exclude_ids=excluded)

        count = -(-len(profiles) // chunk_size)
        workers = min(workers or available_cpus(), count)
        if workers > 1:
            scorer.warm(profiles[: chunk_size * workers], workers)
        for picks in ordered_map(rank_chunk, count, workers):
            yield picks.ranked()


__all__ = ["PaperLike", "Profile", "Ranked", "rank", "rank_chunks"]
