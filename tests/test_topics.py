"""Topics: the arXiv areas liked papers share pull up candidates in those areas."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from digest.ranking.features import Features
from digest.ranking.topics import MIN_PAPERS, Topics

AREAS = {  # an area's name, then words its papers use
    "Robotics": "legged robot walks grasping manipulation motion planning arms",
    "Sound": "audio source separation music generation acoustic scene analysis",
    "Astrophysics of Galaxies": "star formation dark matter halos galaxy clusters",
}


def corpus(per_area: int) -> list[str]:
    rng = np.random.default_rng(3)
    texts = []
    for name, words in AREAS.items():
        texts += [f"{name}: " + " ".join(rng.choice(words.split(), 8)) for _ in range(per_area)]
    return texts


def test_liked_papers_favour_candidates_in_the_area_they_share():
    texts = corpus(30)
    pool = 60  # robotics and sound papers are today's candidates; astrophysics is history
    topics = Topics(Features(texts, pool))
    liked = sp.csr_matrix(np.full((1, 3), 1 / 3, np.float32))
    affinity = topics.affinity(topics.shared(liked, topics.of_papers(np.array([1, 5, 9]))))[
        0
    ]  # robotics
    assert affinity.shape == (pool,)
    assert affinity[:30].min() > affinity[30:60].max()


def test_a_handful_of_papers_has_no_topics():
    texts = corpus(MIN_PAPERS // 3 - 1)
    topics = Topics(Features(texts, len(texts)))
    assert not topics.enabled
    liked = sp.csr_matrix(np.ones((1, 1), np.float32))
    assert not topics.affinity(topics.shared(liked, topics.of_papers(np.array([0])))).any()
