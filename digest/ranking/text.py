"""Words of papers and queries, and their TF-IDF weights."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer, TfidfTransformer

_TOKEN = re.compile(r"(?u)\b\w[\w\-]*\w\b|\b\w\b")
_STOP = frozenset(ENGLISH_STOP_WORDS)
MAX_DF = 0.5  # a term in more than half the papers says nothing about any of them
SMALL_CORPUS = 20  # below this many papers, no term is too common to keep


def normalize_text(text: str) -> str:
    """Lowercase and strip accents so 'Schrödinger' and 'schrodinger' meet."""
    text = text or ""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def tokens(text: str) -> list[str]:
    """Split normalized text into content words, stemmed lightly so 'robots' meets 'robot'."""
    return [stem(t) for t in _TOKEN.findall(normalize_text(text)) if t not in _STOP]


@lru_cache(maxsize=200_000)
def stem(token: str) -> str:
    """Strip the commonest English inflections; cheap, and enough for matching."""
    for suffix, keep in (("ies", "y"), ("sses", "ss"), ("s", "")):
        if token.endswith(suffix) and len(token) > len(suffix) + 3 and not token.endswith("ss"):
            return token[: -len(suffix)] + keep
    return token


def paper_text(paper: Any) -> str:
    """The text a paper is known by: its title twice (titles are dense), then its abstract."""
    title = paper.title or ""
    return f"{title}. {title}. {paper.abstract or ''}"


def embed_text(paper: Any) -> str:
    """The text a sentence encoder reads: title and abstract once each."""
    return f"{paper.title or ''}. {paper.abstract or ''}"


def _words(words: list[str]) -> list[str]:
    return words


def _pairs(words: list[str]) -> list[str]:
    return [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]


class TermWeights:
    """Sublinear TF-IDF over every word, plus the word pairs at least two papers share."""

    def __init__(self, texts: Sequence[str]) -> None:
        docs = [tokens(text) for text in texts]
        max_df = MAX_DF if len(docs) > SMALL_CORPUS else 1.0
        self.words = CountVectorizer(analyzer=_words, max_df=max_df)
        self.pairs: CountVectorizer | None = CountVectorizer(
            analyzer=_pairs, min_df=2, max_df=max_df
        )
        try:
            word_counts = self.words.fit_transform(docs)
        except ValueError:  # no words at all: one term no text has keeps the shapes sound
            self.words = CountVectorizer(analyzer=_words, vocabulary=["<no words>"])
            word_counts = self.words.fit_transform(docs)
        try:
            counts = sp.hstack([word_counts, self.pairs.fit_transform(docs)]).tocsr()
        except ValueError:  # too few papers for any pair to be shared
            self.pairs, counts = None, word_counts.tocsr()
        self.weights = TfidfTransformer(sublinear_tf=True).fit(counts)
        self.matrix = self._weigh(counts)
        self.vocabulary: dict[str, int] = self.words.vocabulary_
        self.size = counts.shape[1]

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """L2-normalized weights of new texts (keywords) over the fitted terms."""
        docs = [tokens(text) for text in texts]
        counts = self.words.transform(docs)
        if self.pairs is not None:
            counts = sp.hstack([counts, self.pairs.transform(docs)])
        return self._weigh(counts.tocsr())

    def _weigh(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        return self.weights.transform(counts).astype(np.float32).tocsr()
