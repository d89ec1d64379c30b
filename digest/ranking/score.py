"""Matrix scoring: relevance from profile rows, boosts, hard filters, trending blend, selection."""

from __future__ import annotations

import gc
import re
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from functools import cached_property
from itertools import chain
from typing import TYPE_CHECKING, Any

import numpy as np

from digest.ranking.features import Features
from digest.ranking.items import Items
from digest.ranking.profile import ProfileRows, author_key, paper_key, profile_rows, spread_rows
from digest.ranking.reasons import Explainer, Picks
from digest.ranking.select import CATEGORY_BOOST, mmr_select, overlap, trending
from digest.ranking.semantic import Embedder
from digest.ranking.text import embed_text, normalize_text, paper_text
from digest.ranking.topics import AFFINITY_WEIGHT, Topics

if TYPE_CHECKING:
    from digest.ranking import Profile, Ranked

_RUN = re.compile(r"\w+")
FOLLOWED_BOOST = 1.0  # above any blend of relevance and trending: followed authors come first


class Scorer:
    """Features fitted once on pool + history; ranks any number of profile chunks against them."""

    def __init__(
        self,
        papers: Sequence[Any],
        history: Sequence[Any],
        *,
        now: datetime | None,
        upvote_velocity: Mapping[str, float] | None,
        embed: Embedder | None = None,
    ) -> None:
        self.papers = list({paper_key(p.id): p for p in reversed(papers)}.values())[::-1]
        self.keys = [paper_key(p.id) for p in self.papers]  # one row per paper, first kept
        self.ids = [p.id for p in self.papers]
        seen = set(self.keys)
        extra = [h for h in history if paper_key(h.id) not in seen]
        known = self.papers + list({paper_key(h.id): h for h in extra}.values())
        self.row_of = {paper_key(p.id): i for i, p in reversed(list(enumerate(known)))}
        texts = [paper_text(p) for p in known] or [""]  # an empty day still fits (to nothing)
        embed_texts = [embed_text(p) for p in known] if embed is not None else None
        self.features = Features(texts, len(self.papers), embed, embed_texts)
        self.topics = Topics(self.features)
        self.items = Items(
            self.features, self.topics, self.row_of, [p.title or p.id for p in known]
        )
        self.trend = trending(self.papers, self.keys, now, upvote_velocity)
        self.paper_overlap = overlap(self.features.reference_to_pool[: len(self.papers)])
        self.by_author = _index(self.papers, lambda p: {author_key(a) for a in p.authors or ()})
        self.by_category = _index(self.papers, lambda p: {c.lower() for c in p.categories or ()})
        self.texts = [normalize_text(paper_text(p)) for p in self.papers]
        self.term_hits: dict[str, list[int]] = {}
        self.col_of = {key: i for i, key in enumerate(self.keys)}
        self.has_categories = np.array([bool(p.categories) for p in self.papers], bool)
        self.explainer = Explainer(self)

    def warm(self, profiles: Sequence[Profile], workers: int) -> None:
        """Compute these profiles' query items (split over `workers` processes) and exclusions.

        Run before the ranking workers fork, so they inherit all this instead of each computing
        the same for its first chunk.
        """
        items = self.items
        with collector_paused():
            profile_rows(profiles, items.keyword, items.paper, items.count)
            items.flush(workers)
            for term in {term for profile in profiles for term in profile.exclude}:
                self._hits(term)

    def rank(
        self,
        profiles: Sequence[Profile],
        *,
        top_k: int | None,
        exclude_ids: Sequence[Collection[str]] | None,
    ) -> list[list[Ranked]]:
        """Rank the pool for each profile of one chunk."""
        with collector_paused():
            return self.picks(profiles, top_k=top_k, exclude_ids=exclude_ids).ranked()

    def picks(
        self,
        profiles: Sequence[Profile],
        *,
        top_k: int | None,
        exclude_ids: Sequence[Collection[str]] | None,
    ) -> Picks:
        """`rank`'s results as flat columns (what ranking workers send back)."""
        if not self.papers:
            return Picks([], [], [], [], [], [0] * len(profiles))
        with collector_paused():
            return self._rank(profiles, top_k=top_k, exclude_ids=exclude_ids)

    def _rank(
        self,
        profiles: Sequence[Profile],
        *,
        top_k: int | None,
        exclude_ids: Sequence[Collection[str]] | None,
    ) -> Picks:
        items = self.items
        rows = profile_rows(profiles, items.keyword, items.paper, items.count)
        items.flush()
        weight = np.array([p.trending_weight for p in profiles], np.float32)
        weight = np.where(rows.personal, weight, 1.0)[:, None]
        score = self._relevance(rows)  # ranks: typical-of-the-day papers held back
        score *= 1 - weight  # in place: these profiles x papers arrays are the bulk of the work
        score += weight * self.trend
        categories = self._marks(profiles, "categories", self.by_category)
        followed = self._marks(profiles, "authors", self.by_author)
        np.add(score, CATEGORY_BOOST * (1 - weight), out=score, where=categories)
        np.add(score, FOLLOWED_BOOST, out=score, where=followed)
        score[self._blocked(profiles, categories, exclude_ids)] = -np.inf
        k = [top_k if top_k is not None else p.max_papers for p in profiles]
        picks = mmr_select(score, self.paper_overlap, max(k, default=0))
        marks = (followed, categories)
        return self.explainer.results(profiles, rows, picks, k, score, marks)

    def _relevance(self, rows: ProfileRows) -> np.ndarray:
        """Each profile's weights times its items' similarities: one sparse-dense product.

        Profiles with liked papers also favour candidates in the areas those papers share, by
        AFFINITY_WEIGHT of the spread of their own relevance (so the blend is scale-free).
        """
        if not rows.weights.nnz:
            return np.zeros((rows.weights.shape[0], len(self.papers)), np.float32)
        relevance = np.asarray(rows.weights @ self.items.sims, dtype=np.float32)
        with_liked = np.flatnonzero([bool(items) for items in rows.liked_items])
        if self.topics.enabled and with_liked.size:
            liked_items = [rows.liked_items[i] for i in with_liked]
            liked = spread_rows(liked_items, 1.0, self.items.count())
            shared = self.topics.shared(liked, self.items.topic)
            spread = relevance[with_liked].std(axis=1, keepdims=True)
            relevance[with_liked] += AFFINITY_WEIGHT * spread * self.topics.affinity(shared)
        return relevance

    def _marks(self, profiles: Sequence[Profile], field: str, index: dict[str, list[int]]):
        """Profiles x papers: True where a followed author / chosen category is the paper's."""
        marks = np.zeros((len(profiles), len(self.papers)), bool)
        key_of = author_key if field == "authors" else str.lower
        found = [
            (row, papers)
            for row, profile in enumerate(profiles)
            for value in getattr(profile, field)
            if (papers := index.get(key_of(value)))
        ]
        return _marked(marks, found)

    def _blocked(
        self,
        profiles: Sequence[Profile],
        categories: np.ndarray,
        exclude_ids: Sequence[Collection[str]] | None,
    ) -> np.ndarray:
        """Papers a profile must never get: excluded terms, category filter, already sent."""
        blocked = np.zeros((len(profiles), len(self.papers)), bool)
        found = [(row, self._hits(term)) for row, p in enumerate(profiles) for term in p.exclude]
        if exclude_ids is not None:
            found += [(row, self._columns(ids)) for row, ids in enumerate(exclude_ids) if ids]
        filters = (p.category_mode == "filter" and bool(p.categories) for p in profiles)
        filtered = np.fromiter(filters, bool, len(profiles))
        blocked[filtered] = self.has_categories & ~categories[filtered]
        return _marked(blocked, found)

    def _columns(self, paper_ids: Collection[str]) -> list[int]:
        """Candidate columns of ids, whatever their version or source spelling."""
        found = []
        for paper_id in paper_ids:
            col = self.col_of.get(paper_id)
            if col is None:
                col = self.col_of.get(paper_key(paper_id))
            if col is not None:
                found.append(col)
        return found

    def _hits(self, term: str) -> list[int]:
        """Papers whose text contains the term as whole words (cached per call).

        Whole words: no word character just before or after (so "C++" and "GPT-4" match too).
        Only the papers holding every run of word characters of the term are searched: a whole
        word match holds each run whole, so this narrows the search without changing it.
        """
        found = self.term_hits.get(term)
        if found is None:
            words = normalize_text(term).split()
            pattern = re.compile(r"(?<!\w)" + r"\W+".join(map(re.escape, words)) + r"(?!\w)")
            runs = [self.papers_with.get(run, []) for run in _RUN.findall(" ".join(words))]
            candidates = (
                sorted(set(runs[0]).intersection(*runs[1:])) if runs else range(len(self.texts))
            )
            found = [i for i in candidates if words and pattern.search(self.texts[i])]
            self.term_hits[term] = found
        return found

    @cached_property
    def papers_with(self) -> dict[str, list[int]]:
        """Run of word characters -> the candidates whose text has it whole."""
        return _index(self.texts, lambda text: set(_RUN.findall(text)))


class collector_paused:  # noqa: N801 (used like a function: `with collector_paused():`)
    """Pause the cyclic garbage collector while building results.

    A chunk makes tens of thousands of small acyclic objects (results, reason lists); each
    allocation burst would trigger collections that rescan every live object, more than
    doubling the time of ranking a large list. A class rather than a generator: leaving it
    allocates nothing, so the one collection the new objects still cost falls where Python
    next allocates, not here.
    """

    def __enter__(self) -> None:
        self.was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *_: object) -> None:
        if self.was_enabled:
            gc.enable()


def _index(papers: Sequence[Any], keys_of: Any) -> dict[str, list[int]]:
    index: dict[str, list[int]] = defaultdict(list)
    for i, paper in enumerate(papers):
        for key in keys_of(paper):
            if key:
                index[key].append(i)
    return dict(index)


def _marked(marks: np.ndarray, found: list[tuple[int, list[int]]]) -> np.ndarray:
    """Set marks[row, columns] for every (row, columns) found, in one assignment."""
    counts = [len(columns) for _, columns in found]
    rows = np.repeat(np.fromiter((row for row, _ in found), np.intp, len(found)), counts)
    cols = np.fromiter(chain.from_iterable(c for _, c in found), np.intp, sum(counts))
    marks[rows, cols] = True
    return marks
