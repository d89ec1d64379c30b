"""Words of papers and queries, and their TF-IDF weights."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfTransformer

_TOKEN = re.compile(r"(?u)\b\w[\w\-]*\w\b|\b\w\b")
_STOP = frozenset(ENGLISH_STOP_WORDS)
MAX_DF = 0.5  # a term in more than half the papers says nothing about any of them
SMALL_CORPUS = 20  # below this many papers, no term is too common to keep
MAX_REMEMBERED = 500_000  # distinct tokens whose stems are kept


def normalize_text(text: str) -> str:
    """Lowercase and strip accents so 'Schrödinger' and 'schrodinger' meet."""
    text = text or ""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def tokens(text: str) -> list[str]:
    """Split normalized text into content words, stemmed lightly so 'robots' meets 'robot'."""
    return [word for word in map(_WORDS.__getitem__, _TOKEN.findall(normalize_text(text))) if word]


def stem(token: str) -> str:
    """Strip the commonest English inflections; cheap, and enough for matching."""
    for suffix, keep in (("ies", "y"), ("sses", "ss"), ("s", "")):
        if token.endswith(suffix) and len(token) > len(suffix) + 3 and not token.endswith("ss"):
            return token[: -len(suffix)] + keep
    return token


class _Words(dict[str, str]):
    """Token -> its stem, or "" for a stop word; each token is worked out once per process."""

    def __missing__(self, token: str) -> str:
        word = "" if token in _STOP else stem(token)
        if len(self) < MAX_REMEMBERED:
            self[token] = word
        return word


_WORDS = _Words()


def paper_text(paper: Any) -> str:
    """The text a paper is known by: its title twice (titles are dense), then its abstract."""
    title = paper.title or ""
    return f"{title}. {title}. {paper.abstract or ''}"


def embed_text(paper: Any) -> str:
    """The text a sentence encoder reads: title and abstract once each."""
    return f"{paper.title or ''}. {paper.abstract or ''}"


class TermCounts:
    """Counts of words, and of the adjacent word pairs ("neural network") two papers share.

    Columns: the words not in most papers (max_df), sorted, then the shared pairs, sorted. Tokens
    and pairs stay integer codes until kept, so the hundreds of thousands of pairs only one paper
    has are never made into strings, looked up or sorted.
    """

    def __init__(self, docs: Sequence[list[str]], max_df: float) -> None:
        flat = [token for doc in docs for token in doc]
        self.word_id = {word: i for i, word in enumerate(dict.fromkeys(flat))}
        words = list(self.word_id)
        ids = np.fromiter(map(self.word_id.__getitem__, flat), np.int64, len(flat))
        doc = np.repeat(np.arange(len(docs)), [len(d) for d in docs])
        same = doc[:-1] == doc[1:]  # neighbours within one text
        n, most = len(words), max_df * len(docs)
        texts = len(docs)
        kept_words, word_counts = _count(doc, ids, n, texts, 1, most, words.__getitem__)
        kept_pairs, pair_counts = _count(
            doc[:-1][same],
            ids[:-1][same] * n + ids[1:][same],
            n * n,
            texts,
            2,
            most,
            lambda code: f"{words[code // n]} {words[code % n]}",
        )
        self.vocabulary = {words[code]: column for column, code in enumerate(kept_words)}
        start = len(kept_words)
        self.pair_column = {code: start + column for column, code in enumerate(kept_pairs)}
        self.size = max(start + len(kept_pairs), 1)  # a day without words still has one term
        self.matrix = sp.hstack([word_counts, pair_counts], format="csr")
        self.matrix.resize(texts, self.size)

    def transform(self, docs: Sequence[list[str]]) -> sp.csr_matrix:
        """Counts of the kept words and pairs in new texts (keywords)."""
        rows: list[int] = []
        columns: list[int] = []
        n = len(self.word_id)
        for row, doc in enumerate(docs):
            ids = [self.word_id.get(token, -1) for token in doc]
            found = [self.vocabulary.get(token) for token in doc] + [
                self.pair_column.get(a * n + b) if a >= 0 <= b else None
                for a, b in zip(ids, ids[1:], strict=False)
            ]
            kept = [column for column in found if column is not None]
            rows += [row] * len(kept)
            columns += kept
        values = np.ones(len(rows), np.int64)
        return sp.csr_matrix((values, (rows, columns)), shape=(len(docs), self.size))


def _count(
    doc: np.ndarray,
    codes: np.ndarray,
    width: int,
    texts: int,
    least: int,
    most: float,
    name: Any,
) -> tuple[list[int], sp.csr_matrix]:
    """Codes (below `width`) that `least` to `most` texts use, sorted by `name`; their counts."""
    cells, counts = np.unique(doc * width + codes, return_counts=True)
    cell_code = cells % width
    code, df = np.unique(cell_code, return_counts=True)
    kept = code[(df >= least) & (df <= most)]
    by_name = np.argsort([name(c) for c in kept.tolist()], kind="stable")
    column_of_code = np.empty(kept.size, int)
    column_of_code[by_name] = np.arange(kept.size)
    at = np.minimum(np.searchsorted(kept, cell_code), max(kept.size - 1, 0))
    used = kept[at] == cell_code if kept.size else np.zeros(cells.size, bool)
    matrix = sp.csr_matrix(
        (counts[used], (cells[used] // width, column_of_code[at[used]])),
        shape=(texts, kept.size),
    )
    return kept[by_name].tolist(), matrix


class TermWeights:
    """Sublinear TF-IDF over every word, plus the word pairs at least two papers share."""

    def __init__(self, texts: Sequence[str]) -> None:
        docs = [tokens(text) for text in texts]
        self.counts = TermCounts(docs, MAX_DF if len(docs) > SMALL_CORPUS else 1.0)
        self.weights = TfidfTransformer(sublinear_tf=True).fit(self.counts.matrix)
        self.matrix = self._weigh(self.counts.matrix)
        self.vocabulary: dict[str, int] = self.counts.vocabulary
        self.size = self.counts.size

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """L2-normalized weights of new texts (keywords) over the fitted terms."""
        return self._weigh(self.counts.transform([tokens(text) for text in texts]))

    def _weigh(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        return self.weights.transform(counts).astype(np.float32).tocsr()
