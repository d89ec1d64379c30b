"""Topics: where each paper sits among arXiv's named areas, inferred from its text alone.

Liked papers that share no words can still share an area ("Human-Computer Interaction",
"Robotics"); a profile learns which areas its liked papers have in common and favours candidates
in those areas. Each area's name is a short query, expanded by pseudo-relevance feedback like a
keyword, so a paper's topic scores never read its categories: papers from feeds without
categories get them too.

Areas are a ranking signal, not a reason shown: inferred from text, their names are often only
loosely right ("Fluid Dynamics" for flow-matching papers), so reasons stay with the liked paper.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from digest.ranking.features import Features
from digest.ranking.items import feedback_papers
from digest.ranking.text import tokens
from digest.taxonomy import CATEGORIES

NAMES = [name for _, name in CATEGORIES]
DEPTH = 10  # papers folded into an area's name
FEEDBACK = 0.8  # share of an area's scores from those papers
MIN_MENTIONS = 5  # papers that must name an area for it to count at all
MIN_PAPERS = 50  # fewer known papers than this cannot say which areas are unusual for a paper
AFFINITY_BAR = 1.0  # an area counts for a profile when its liked papers sit this many s.d. above
AFFINITY_WEIGHT = 0.3  # in standard deviations of the profile's relevance


class Topics:
    """`scores`: areas x known papers, each area standardized over the papers."""

    def __init__(self, features: Features) -> None:
        self.n_pool = features.n_pool
        n_known = features.tfidf.shape[0]
        self.scores = np.zeros((len(NAMES), n_known), np.float32)
        present = _present_areas(features) if n_known >= MIN_PAPERS else np.zeros(0, int)
        self.enabled = present.size > 0
        if self.enabled:
            names = [NAMES[area] for area in present]
            self.scores[present] = _standardize(_expanded(features, names))

    def of_papers(self, rows: np.ndarray) -> np.ndarray:
        """Known papers by row -> their area scores (rows x areas)."""
        return self.scores[:, rows].T

    def shared(self, liked: sp.csr_matrix, paper_topics: np.ndarray) -> np.ndarray:
        """Profiles x areas: the areas each profile's liked papers share, weights summing to one.

        `liked`: profiles x items, each row's liked items weighted to sum to one;
        `paper_topics`: items x areas (zero for keyword items).
        """
        shared = np.clip(np.asarray(liked @ paper_topics) - AFFINITY_BAR, 0.0, None)
        total = shared.sum(axis=1, keepdims=True)
        return np.divide(shared, total, out=shared, where=total > 0).astype(np.float32)

    def affinity(self, shared: np.ndarray) -> np.ndarray:
        """Profiles x candidates: how much each candidate is in the profile's shared areas."""
        return shared @ self.scores[:, : self.n_pool]


def _expanded(features: Features, names: list[str]) -> np.ndarray:
    """Each area name's similarity to every known paper, moved toward its closest papers."""
    first = features.sims_to_all(*features.vectorize(names))
    chosen = feedback_papers(first, DEPTH)
    used = np.unique(chosen.indices)  # only these papers' similarities are needed
    feedback = chosen[:, used] @ features.sims_to_all(*features.rows(used))
    return (1 - FEEDBACK) * first + FEEDBACK * feedback


def _present_areas(features: Features) -> np.ndarray:
    """The areas at least MIN_MENTIONS known papers name (every word): what the corpus is about.

    An area nobody writes about ("K-Theory and Homology" among machine-learning papers) still
    has a most-similar paper; its scores would be noise, so it takes no part.
    """
    has_word = (features.tfidf > 0).tocsc()
    counts = np.zeros(len(NAMES), int)
    for area, name in enumerate(NAMES):
        columns = {features.vocabulary.get(word, -1) for word in tokens(name)}
        if columns and -1 not in columns:
            hits = np.asarray(has_word[:, sorted(columns)].sum(axis=1)).ravel()
            counts[area] = int((hits == len(columns)).sum())
    return np.flatnonzero(counts >= MIN_MENTIONS)


def _standardize(scores: np.ndarray) -> np.ndarray:
    spread = scores.std(axis=1, keepdims=True)
    return ((scores - scores.mean(axis=1, keepdims=True)) / np.maximum(spread, 1e-6)).astype(
        np.float32
    )
