"""Query items (keywords, liked papers) and their similarity to every candidate, computed once.

Each query also loses a share of the whole corpus's centroid (Rocchio's negative feedback, with
the day's unlabelled papers as the non-relevant set), so papers that are merely typical of the day
stop crowding out the ones that are specific to the query.

Short queries ("Robotics") share few words with the papers they mean, so each item is expanded by
pseudo-relevance feedback: its closest papers in the pool and history (unlabelled) are folded into
the query (Rocchio) before it is compared with the candidates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from digest.ranking.features import Features
from digest.ranking.parallel import ordered_map
from digest.ranking.profile import paper_key
from digest.ranking.select import best_columns

if TYPE_CHECKING:
    from digest.ranking.topics import Topics

KEYWORD_DEPTH = 10  # papers folded into a keyword
PAPER_DEPTH = 15  # papers folded into a liked paper
KEYWORD_FEEDBACK = 0.6  # share of the expanded query that comes from feedback papers
PAPER_FEEDBACK = 0.3
GENERIC = 0.5  # Rocchio negative: how much of the corpus centroid every query loses
SECOND_DEPTH = 2  # best candidates folded into a keyword's second round
SECOND_SHARE = 0.4
BATCH = 2_000


class Items:
    """Registry of query items; `sims` rows are items, columns the candidate papers."""

    def __init__(
        self, features: Features, topics: Topics, row_of: dict[str, int], titles: list[str]
    ) -> None:
        self.features = features
        self.topics = topics
        self.row_of = row_of
        self.titles = titles
        self.index: dict[tuple[str, str], int] = {}
        self.spelled: dict[tuple[str, str], int | None] = {}  # as profiles spell them
        self.labels: list[str] = []
        self.pending: list[tuple[str, str]] = []
        self.sims = np.zeros((0, features.n_pool), np.float32)
        self.literal = np.zeros((0, features.n_pool), bool)  # the paper contains the keyword
        self.direct = np.zeros((0, features.n_pool), np.float32)  # before any feedback: the bar
        self.topic = np.zeros((0, topics.scores.shape[0]), np.float32)  # liked papers' areas

    def keyword(self, text: str) -> int:
        """Column of a keyword item, registering it if new."""
        found = self.spelled.get(("keyword", text))  # profiles share keywords verbatim
        if found is None:
            found = self.spelled["keyword", text] = self._item("keyword", text.strip())
        return found

    def paper(self, paper_id: str) -> int | None:
        """Column of a liked/disliked paper (by version-less id), None if its text is unknown."""
        found = self.spelled.get(("paper", paper_id), -1)
        if found == -1:
            key = paper_key(paper_id)
            row = self.row_of.get(key)
            found = None if row is None else self._item("paper", key, self.titles[row])
            self.spelled["paper", paper_id] = found
        return found

    def count(self) -> int:
        """How many items are registered, computed or not."""
        return len(self.labels)

    def flush(self, workers: int = 1) -> None:
        """Compute similarities for the items registered since the last flush.

        `workers` > 1 deals them out between this process and forked workers (see
        `ordered_map`) like cards, so each gets as many keywords and as many papers.
        """
        if not self.pending:
            return
        pending, self.pending = self.pending, []
        n_hands = min(workers, len(pending))
        hands = [pending[first::n_hands] for first in range(n_hands)]
        parts = list(ordered_map(lambda i: self._computed(hands[i]), n_hands, workers))
        grown = []
        for at, old in enumerate((self.sims, self.direct, self.literal, self.topic)):
            new = np.empty((len(pending), old.shape[1]), old.dtype)
            for first, part in enumerate(parts):
                new[first::n_hands] = part[at]  # back in the order they were registered
            grown.append(np.vstack([old, new]))
        self.sims, self.direct, self.literal, self.topic = grown

    def _computed(self, items: list[tuple[str, str]]) -> tuple[np.ndarray, ...]:
        """(sims, direct, literal, topic) rows of these items, BATCH at a time."""
        batches = [items[start : start + BATCH] for start in range(0, len(items), BATCH)]
        parts = [(*self._similarities(batch), self._topics(batch)) for batch in batches]
        return tuple(np.vstack([part[at] for part in parts]) for at in range(4))

    def _item(self, kind: str, key: str, label: str | None = None) -> int:
        found = self.index.get((kind, key))
        if found is None:
            found = self.index[(kind, key)] = len(self.labels)
            self.labels.append(key if label is None else label)
            self.pending.append((kind, key))
        return found

    def _topics(self, batch: list[tuple[str, str]]) -> np.ndarray:
        """Area scores of paper items; keywords have none."""
        topic = np.zeros((len(batch), self.topic.shape[1]), np.float32)
        is_paper = np.array([kind == "paper" for kind, _ in batch])
        if is_paper.any():
            rows = np.array([self.row_of[key] for kind, key in batch if kind == "paper"])
            topic[is_paper] = self.topics.of_papers(rows)
        return topic

    def _similarities(self, batch: list[tuple[str, str]]) -> tuple[np.ndarray, ...]:
        words = [key for kind, key in batch if kind == "keyword"]
        rows = np.array([self.row_of[key] for kind, key in batch if kind == "paper"], dtype=int)
        sims = np.zeros((len(batch), self.features.n_pool), np.float32)
        direct, literal = np.zeros_like(sims), np.zeros(sims.shape, bool)
        is_word = np.array([kind == "keyword" for kind, _ in batch])
        generic = self.features.centrality
        if words:
            tfidf, lsa = self.features.vectorize(words)
            found, direct[is_word] = expand(
                self.features, tfidf, lsa, KEYWORD_FEEDBACK, KEYWORD_DEPTH
            )
            sims[is_word] = refine(self.features, found - GENERIC * generic)
            literal[is_word] = self.features.contains_all(words)
        if rows.size:
            found, direct[~is_word] = expand(
                self.features, *self.features.rows(rows), PAPER_FEEDBACK, PAPER_DEPTH
            )
            sims[~is_word] = found - GENERIC * generic
        return sims, direct, literal


def expand(
    features: Features, tfidf: sp.csr_matrix, lsa: np.ndarray, share: float, depth: int
) -> tuple[np.ndarray, np.ndarray]:
    """Similarity to the pool of queries moved toward their closest papers (Rocchio), and before.

    Done in score space: a candidate's similarity to the feedback papers is read from the
    precomputed paper-to-candidate matrix, so no expanded query vector is ever built.
    """
    first = features.sims_to_reference(tfidf, lsa)
    chosen = feedback_papers(first, depth)
    found = chosen.getnnz(axis=1) > 0  # a query with no known word has nothing to expand from
    mix = np.where(found, share, 0.0).astype(np.float32)[:, None]
    direct = first[:, : features.n_pool]
    return (1 - mix) * direct + mix * (chosen @ features.reference_to_pool), direct


def feedback_papers(first: np.ndarray, depth: int) -> sp.csr_matrix:
    """Queries x known papers: each query's `depth` closest papers, weights summing to one.

    `first` is the queries' similarity to every known paper; a query similar to none gets an
    empty row.
    """
    depth = min(depth, max(1, first.shape[1] // 20))  # a tiny corpus has no neighbours
    top = best_columns(first, depth)
    weights = np.clip(np.take_along_axis(first, top, axis=1), 0.0, None)
    total = weights.sum(axis=1, keepdims=True)
    weights = np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)
    rows = np.repeat(np.arange(first.shape[0]), depth)
    chosen = sp.csr_matrix((weights.ravel(), (rows, top.ravel())), shape=first.shape)
    chosen.eliminate_zeros()
    return chosen


def refine(features: Features, sims: np.ndarray) -> np.ndarray:
    """Fold a keyword's best few candidates back into it: a second feedback round."""
    # a short query's best papers today say what it means better than its own words
    depth = min(SECOND_DEPTH, sims.shape[1])
    if depth < 1 or sims.shape[1] < 20 * depth:  # too few candidates to learn from
        return sims
    top = best_columns(sims, depth)
    pool = features.reference_to_pool[: features.n_pool]
    feedback = pool[top].mean(axis=1) - GENERIC * features.centrality
    return (1 - SECOND_SHARE) * sims + SECOND_SHARE * feedback
