"""Reasons for the papers picked, read from the same numbers that ranked them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import TYPE_CHECKING, Any

import numpy as np

from digest.ranking.profile import ProfileRows, author_key
from digest.ranking.select import CATEGORY_BOOST

if TYPE_CHECKING:
    from digest.ranking import Profile, Ranked
    from digest.ranking.score import Scorer

KEYWORD_REASON = 0.05  # item similarity at which a keyword is said to relate to a paper
LIKED_REASON = 0.1
MAX_KEYWORDS = 3  # named in one reason
MAX_KEYWORD_BITS = 62  # keywords of one profile that can be named at all
TITLE_CHARS = 70
NEAR_MISS = "near miss: little in common with your interests"


@dataclass(slots=True)
class Picks:
    """One chunk's picks as flat columns, row-major: cheap to pickle between processes."""

    ids: list[str]
    scores: list[float]
    relevances: list[float]
    reasons: list[list[str]]
    above_min: list[bool]
    counts: list[int]  # picks per profile

    def ranked(self) -> list[list[Ranked]]:
        """One list of `Ranked` per profile."""
        from digest.ranking import Ranked

        columns = (self.ids, self.scores, self.relevances, self.reasons, self.above_min)
        flat = list(map(Ranked, *columns))
        ends = list(accumulate(self.counts))
        return [flat[start:end] for start, end in zip([0, *ends[:-1]], ends, strict=True)]


class Explainer:
    """Turns picks into `Picks` with their reasons; strings are cached since digests share them."""

    def __init__(self, scorer: Scorer) -> None:
        self.scorer = scorer
        self.cache: dict[Any, str] = {}
        popular = [_upvotes(p.upvotes) for p in scorer.papers]
        self.popular = np.array(popular, object)
        # reasons of papers with nothing personal to say, built once per paper: by column for
        # personal profiles (near misses), by column + papers for the others (what's trending)
        self.usual: list[tuple[str, ...]] = [(NEAR_MISS, *filter(None, [up])) for up in popular]
        self.usual += [("trending today", up) if up else ("new today",) for up in popular]
        self.ids = np.array(scorer.ids, object)

    def results(
        self,
        profiles: Sequence[Profile],
        rows: ProfileRows,
        picks: np.ndarray,
        k: list[int],
        score: np.ndarray,
        marks: tuple[np.ndarray, np.ndarray],
    ) -> Picks:
        """Each profile's picks, best first, with reasons and the min-score verdict.

        `marks` are (followed author, category match) as profiles x papers booleans. Everything
        per paper is gathered as arrays first, then every pick of the chunk is made in one pass.
        """
        counts = np.minimum((picks >= 0).sum(axis=1), k)
        valid = np.arange(picks.shape[1]) < counts[:, None]
        cols = np.where(valid, picks, 0)
        followed, in_category = (np.take_along_axis(a, cols, axis=1) for a in marks)
        scores = np.round(np.take_along_axis(score, cols, 1).astype(float), 4)
        rels = np.round(self._direct(rows, cols) + CATEGORY_BOOST * in_category, 4)
        minimum = np.array([p.min_score for p in profiles])[:, None]
        keep = ~rows.personal[:, None] | followed | (rels >= minimum)
        has, whys = self._personal(profiles, rows, cols, valid, followed, in_category)
        picked, mine = cols[valid], has[valid]  # row-major, as `whys`
        usual = np.where(np.repeat(rows.personal, counts), picked, picked + len(self.ids))
        reasons = np.empty(picked.size, object)
        reasons[mine] = np.fromiter(whys, object, len(whys))
        others = map(list, map(self.usual.__getitem__, usual[~mine].tolist()))
        reasons[~mine] = np.fromiter(others, object, int((~mine).sum()))
        return Picks(
            self.ids[picked].tolist(),
            scores[valid].tolist(),
            rels[valid].tolist(),
            reasons.tolist(),
            keep[valid].tolist(),
            counts.tolist(),
        )

    def _personal(
        self,
        profiles: Sequence[Profile],
        rows: ProfileRows,
        cols: np.ndarray,
        valid: np.ndarray,
        followed: np.ndarray,
        in_category: np.ndarray,
    ) -> tuple[np.ndarray, list[list[str]]]:
        """Which picks have something personal to say, and their reasons in row-major order."""
        matched, related = self._keyword_bits(rows.keyword_items, cols)
        closest = self._closest_liked(rows.liked_items, cols)
        has = valid & (followed | in_category | (matched > 0) | (related > 0) | (closest >= 0))
        at = np.nonzero(has)
        row, col, kw = at[0].tolist(), cols[at].tolist(), rows.keyword_items
        match, relate, near = (a[at].tolist() for a in (matched, related, closest))
        columns = [  # one per kind of reason, in the order they are read
            _texts(followed[at], lambda i: self._author(profiles[row[i]], col[i])),
            _texts(
                matched[at] > 0, lambda i: self._keyword_text("matches: ", kw[row[i]], match[i])
            ),
            _texts(
                related[at] > 0, lambda i: self._keyword_text("related to: ", kw[row[i]], relate[i])
            ),
            _texts(closest[at] >= 0, lambda i: self._liked(near[i])),
            _texts(in_category[at], lambda i: self._categories(profiles[row[i]], col[i])),
            self.popular[cols[at]],
        ]
        return has, [[text for text in texts if text] for texts in zip(*columns, strict=True)]

    def _direct(self, rows: ProfileRows, cols: np.ndarray) -> np.ndarray:
        """The relevance shown and held against min_score: weighted direct similarities.

        Feedback and the centroid penalty rank well but are relative to the day; the bar
        needs an absolute number, or a day with nothing for you would still look busy.
        """
        weights = rows.weights
        prof = np.repeat(np.arange(weights.shape[0]), np.diff(weights.indptr))
        if not prof.size:
            return np.zeros(cols.shape)
        direct = self.scorer.items.direct[weights.indices[:, None], cols[prof]]
        return _sum_by(prof, direct * weights.data[:, None], cols.shape).astype(float)

    def _keyword_bits(self, items: list[list[int]], cols: np.ndarray) -> tuple[Any, Any]:
        """Bit i set where the profile's keyword i is contained in / close to the picked paper."""
        prof, item, bit = _pairs(items, MAX_KEYWORD_BITS)
        shape = cols.shape
        if not item.size:
            return np.zeros(shape, np.int64), np.zeros(shape, np.int64)
        picked = cols[prof]
        near = self.scorer.items.sims[item[:, None], picked] >= KEYWORD_REASON
        literal = self.scorer.items.literal[item[:, None], picked]
        bits = (np.int64(1) << bit.astype(np.int64))[:, None]
        return (
            _sum_by(prof, np.where(near & literal, bits, 0), shape),
            _sum_by(prof, np.where(near & ~literal, bits, 0), shape),
        )

    def _closest_liked(self, items: list[list[int]], cols: np.ndarray) -> np.ndarray:
        """The liked item closest to each picked paper, -1 where none is close enough."""
        prof, item, _ = _pairs(items, None)
        best_item = np.full(cols.shape, -1)
        if not item.size:
            return best_item
        sims = self.scorer.items.sims[item[:, None], cols[prof]]
        best = np.full(cols.shape, -np.inf, np.float32)
        np.maximum.at(best, prof, sims)
        win_pair, win_slot = np.nonzero((sims >= best[prof]) & (sims >= LIKED_REASON))
        best_item[prof[win_pair], win_slot] = item[win_pair]
        return best_item

    def _keyword_text(self, label: str, kw: list[int], bits: int) -> str:
        kwt = tuple(kw)
        key = (label, kwt, bits)
        text = self.cache.get(key)
        if text is None:
            chosen = [kwt[i] for i in range(min(len(kwt), MAX_KEYWORD_BITS)) if bits >> i & 1]
            text = self.cache[key] = label + self._join(tuple(chosen[:MAX_KEYWORDS]))
        return text

    def _liked(self, item: int) -> str:
        label = self.scorer.items.labels[item]
        return self._text(("liked", item), lambda: f"close to a paper you liked: {_short(label)}")

    def _join(self, items: tuple[int, ...]) -> str:
        return ", ".join(self.scorer.items.labels[i] for i in items)

    def _text(self, key: Any, make: Callable[[], str]) -> str:
        text = self.cache.get(key)
        if text is None:
            text = self.cache[key] = make()
        return text

    def _author(self, profile: Profile, col: int) -> str:
        wanted = {author_key(a) for a in profile.authors}
        names = [a for a in self.scorer.papers[col].authors if author_key(a) in wanted]
        return "by a followed author: " + ", ".join(names[:2])

    def _categories(self, profile: Profile, col: int) -> str:
        key = ("in", tuple(profile.categories), col)
        text = self.cache.get(key)
        if text is None:
            wanted = {c.lower() for c in profile.categories}
            mine = [c for c in self.scorer.papers[col].categories or () if c.lower() in wanted]
            text = self.cache[key] = f"in {', '.join(mine)}" if mine else ""
        return text


def _texts(where: np.ndarray, make: Callable[[int], str]) -> np.ndarray:
    """A column of reason texts: make(i) where `where[i]`, "" (no reason) elsewhere."""
    column = np.full(where.size, "", object)
    at = np.flatnonzero(where).tolist()
    column[where] = np.fromiter(map(make, at), object, len(at))
    return column


def _upvotes(upvotes: int | None) -> str:
    if not upvotes or upvotes < 0:
        return ""
    return "1 upvote" if upvotes == 1 else f"{upvotes} upvotes"


def _short(title: str) -> str:
    title = " ".join(title.split())
    return title if len(title) <= TITLE_CHARS else title[: TITLE_CHARS - 1].rstrip() + "…"


def _pairs(items: list[list[int]], limit: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flatten per-profile item lists into (profile, item, position) arrays."""
    lists = [row[:limit] for row in items]
    counts = np.fromiter((len(x) for x in lists), int, count=len(lists))
    prof = np.repeat(np.arange(len(lists)), counts)
    item = np.fromiter((i for x in lists for i in x), int, count=int(counts.sum()))
    position = np.arange(prof.size) - np.repeat(np.cumsum(counts) - counts, counts)
    return prof, item, position


def _sum_by(prof: np.ndarray, values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum rows of `values` per profile (`prof` is sorted), into a profiles x picks array."""
    out = np.zeros(shape, values.dtype)
    starts = np.flatnonzero(np.r_[True, prof[1:] != prof[:-1]])
    out[prof[starts]] = np.add.reduceat(values, starts, axis=0)
    return out
