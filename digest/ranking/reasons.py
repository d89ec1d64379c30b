"""Reasons for the papers picked, read from the same numbers that ranked them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from digest.ranking.profile import ProfileRows, author_key

if TYPE_CHECKING:
    from digest.ranking import Profile, Ranked
    from digest.ranking.score import Scorer

KEYWORD_REASON = 0.08  # item similarity at which a keyword is said to match
LIKED_REASON = 0.15
MAX_KEYWORDS = 3
TITLE_CHARS = 70


class Explainer:
    """Turns picks into `Ranked` rows; strings are cached since many digests share them."""

    def __init__(self, scorer: Scorer) -> None:
        self.scorer = scorer
        self.cache: dict[Any, str] = {}
        self.popular = [_upvotes(p.upvotes) for p in scorer.papers]

    def results(
        self,
        profiles: Sequence[Profile],
        rows: ProfileRows,
        picks: np.ndarray,
        k: list[int],
        score: np.ndarray,
        relevance: np.ndarray,
        followed: np.ndarray,
    ) -> list[list[Ranked]]:
        """One ranked list per profile, best first, with reasons and the min-score verdict."""
        from digest.ranking import Ranked

        sims, out = self.scorer.items.sims, []
        for row, profile in enumerate(profiles):
            cols = picks[row, : k[row]]
            cols = cols[cols >= 0]
            kw, liked = rows.keyword_items[row], rows.liked_items[row]
            kw_sims = sims[np.ix_(kw, cols)] if kw else None
            liked_sims = sims[np.ix_(liked, cols)] if liked else None
            ranked = []
            for j, col in enumerate(cols.tolist()):
                why = self._why(
                    profile,
                    rows.personal[row],
                    col,
                    followed[row, col],
                    kw,
                    kw_sims[:, j] if kw else None,
                    liked,
                    liked_sims[:, j] if liked else None,
                )
                rel = float(relevance[row, col])
                keep = bool(followed[row, col]) or (rows.personal[row] and rel >= profile.min_score)
                ranked.append(
                    Ranked(
                        self.scorer.keys[col],
                        round(float(score[row, col]), 4),
                        round(rel, 4),
                        why,
                        keep or not rows.personal[row],
                    )
                )
            out.append(ranked)
        return out

    def _why(
        self,
        profile: Profile,
        personal: bool,
        col: int,
        followed: float,
        kw: list[int],
        kw_sims: np.ndarray | None,
        liked: list[int],
        liked_sims: np.ndarray | None,
    ) -> list[str]:
        why: list[str] = []
        if followed:
            why.append(self._author(profile, col))
        if kw_sims is not None:
            order = np.argsort(-kw_sims)[:MAX_KEYWORDS]
            hits = tuple(kw[i] for i in order if kw_sims[i] >= KEYWORD_REASON)
            if hits:
                why.append(
                    self._text(
                        ("kw", hits),
                        lambda: "matches: " + ", ".join(self.scorer.items.labels[i] for i in hits),
                    )
                )
        if liked_sims is not None and liked_sims.max() >= LIKED_REASON:
            item = liked[int(liked_sims.argmax())]
            why.append(
                self._text(
                    ("liked", item),
                    lambda: "close to a paper you liked: " + _short(self.scorer.items.labels[item]),
                )
            )
        if profile.categories and not why:
            why.extend(self._categories(profile, col))
        if self.popular[col]:
            why.append(self.popular[col])
        if not why:
            why.append("new today" if not personal else "related to your interests")
        return why

    def _text(self, key: Any, make: Any) -> str:
        text = self.cache.get(key)
        if text is None:
            text = self.cache[key] = make()
        return text

    def _author(self, profile: Profile, col: int) -> str:
        wanted = {author_key(a) for a in profile.authors}
        names = [a for a in self.scorer.papers[col].authors if author_key(a) in wanted]
        return "by a followed author: " + ", ".join(names[:2])

    def _categories(self, profile: Profile, col: int) -> list[str]:
        wanted = {c.lower() for c in profile.categories}
        mine = [c for c in self.scorer.papers[col].categories or () if c.lower() in wanted]
        return [f"in {', '.join(mine)}"] if mine else []


def _upvotes(upvotes: int | None) -> str:
    if not upvotes:
        return ""
    return "1 upvote" if upvotes == 1 else f"{upvotes} upvotes"


def _short(title: str) -> str:
    title = " ".join(title.split())
    return title if len(title) <= TITLE_CHARS else title[: TITLE_CHARS - 1].rstrip() + "…"
