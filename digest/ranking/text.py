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


class PairCounts:
    """Counts of the adjacent word pairs ("neural network") at least two papers share.

    The same vocabulary (sorted) and counts as a CountVectorizer over "a b" strings with
    min_df=2, but pairs stay integer codes until kept: the hundreds of thousands of pairs only
    one paper has are never made into strings, looked up or sorted.
    """

    def __init__(self, docs: Sequence[list[str]], max_df: float) -> None:
        self.word_id: dict[str, int] = {}
        doc, codes = self._codes(docs, self.word_id)
        pairs, pair_of = np.unique(codes, return_inverse=True)
        cells, counts = np.unique(doc * len(pairs) + pair_of, return_counts=True)
        cell_pair = cells % max(len(pairs), 1)
        df = np.bincount(cell_pair, minlength=len(pairs))
        kept = np.flatnonzero((df >= 2) & (df <= max_df * len(docs)))
        words = list(self.word_id)
        names = [f"{words[code // len(words)]} {words[code % len(words)]}" for code in pairs[kept]]
        order = np.argsort(names, kind="stable")
        self.size = kept.size
        self.column = dict(zip(pairs[kept][order].tolist(), range(kept.size), strict=True))
        column_of = np.full(len(pairs), -1)
        column_of[kept[order]] = np.arange(kept.size)
        columns = column_of[cell_pair]
        found = columns >= 0
        self.matrix = sp.csr_matrix(
            (counts[found], (cells[found] // max(len(pairs), 1), columns[found])),
            shape=(len(docs), self.size),
        )

    def transform(self, docs: Sequence[list[str]]) -> sp.csr_matrix:
        """Counts of the kept pairs in new texts (keywords)."""
        rows, columns = [], []
        n_words = len(self.word_id)
        for row, doc in enumerate(docs):
            ids = [self.word_id.get(token, -1) for token in doc]
            for first, second in zip(ids, ids[1:], strict=False):
                column = (
                    self.column.get(first * n_words + second) if min(first, second) >= 0 else None
                )
                if column is not None:
                    rows.append(row)
                    columns.append(column)
        return sp.csr_matrix(
            (np.ones(len(rows), np.int64), (rows, columns)), shape=(len(docs), self.size)
        )

    @staticmethod
    def _codes(docs: Sequence[list[str]], word_id: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
        """(document, first * words + second) of every adjacent pair, registering the words."""
        flat = np.array(
            [word_id.setdefault(t, len(word_id)) for doc in docs for t in doc], np.int64
        )
        doc = np.repeat(np.arange(len(docs)), [len(d) for d in docs])
        same = doc[:-1] == doc[1:]
        return doc[:-1][same], flat[:-1][same] * len(word_id) + flat[1:][same]


class TermWeights:
    """Sublinear TF-IDF over every word, plus the word pairs at least two papers share."""

    def __init__(self, texts: Sequence[str]) -> None:
        docs = [tokens(text) for text in texts]
        max_df = MAX_DF if len(docs) > SMALL_CORPUS else 1.0
        self.words = CountVectorizer(analyzer=_words, max_df=max_df)
        try:
            word_counts = self.words.fit_transform(docs)
        except ValueError:  # no words at all: one term no text has keeps the shapes sound
            self.words = CountVectorizer(analyzer=_words, vocabulary=["<no words>"])
            word_counts = self.words.fit_transform(docs)
        self.pairs = PairCounts(docs, max_df)
        counts = sp.hstack([word_counts, self.pairs.matrix]).tocsr()
        self.weights = TfidfTransformer(sublinear_tf=True).fit(counts)
        self.matrix = self._weigh(counts)
        self.vocabulary: dict[str, int] = self.words.vocabulary_
        self.size = counts.shape[1]

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """L2-normalized weights of new texts (keywords) over the fitted terms."""
        docs = [tokens(text) for text in texts]
        counts = sp.hstack([self.words.transform(docs), self.pairs.transform(docs)])
        return self._weigh(counts.tocsr())

    def _weigh(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        return self.weights.transform(counts).astype(np.float32).tocsr()
