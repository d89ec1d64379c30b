"""Text -> vectors: TF-IDF and LSA fitted once per call on the candidate pool plus history.

With an embedder (the [semantic] extra), the dense part of every vector is LSA and sentence
embeddings side by side, each scaled so their dot products add up to SEMANTIC_SHARE of the
embedding cosine plus the rest of the LSA cosine.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from operator import matmul

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from digest.ranking.semantic import Embedder
from digest.ranking.text import TermWeights, tokens

LSA_DIMS = 150
LSA_TERMS = 10_000  # the most frequent shared terms; 20k measured no better, 50% slower
LSA_PAPERS = 2_000  # reference papers: the pool first, then a sample of history
RANK_TOLERANCE = 1e-3  # singular values below this share of the largest carry no topic
MIN_PAPERS_FOR_CENTROID = 20
LEXICAL_SHARE = 0.5  # weight of exact-term cosine beside the dense cosine in every similarity
SEMANTIC_SHARE = 0.7  # of the dense cosine, when embeddings are on; measured by `digest eval`


class Features:
    """TF-IDF (sparse) and LSA (dense) vectors for the pool and history, both L2-normalized."""

    def __init__(
        self,
        texts: Sequence[str],
        n_pool: int,
        embed: Embedder | None = None,
        embed_texts: Sequence[str] | None = None,
    ) -> None:
        self.n_pool = n_pool
        self.embed = embed
        self.terms = TermWeights(texts)
        self.tfidf = self.terms.matrix
        self.vocabulary = self.terms.vocabulary
        self.reference = _reference(self.tfidf.shape[0], n_pool)
        self.pool_tfidf_t = self.tfidf[:n_pool].T.tocsr()
        reference_tfidf = self.tfidf[self.reference]
        self.reference_tfidf_t = reference_tfidf.T.tocsr()
        # the term half of reference papers x candidates (the pool's own rows first), in a
        # thread while LSA is fitted: both leave the GIL for most of their time
        with ThreadPoolExecutor(1) as thread:
            lexical = thread.submit(matmul, reference_tfidf, self.pool_tfidf_t)
            self.lsa_model = _fit_svd(self.tfidf, _even(self.reference, LSA_PAPERS))
            self.lsa = self._dense(self.tfidf, embed_texts if embed_texts is not None else texts)
            self.pool_lsa_t = np.ascontiguousarray(self.lsa[:n_pool].T)
            reference_lsa = self.lsa[self.reference]
            self.reference_lsa_t = np.ascontiguousarray(reference_lsa.T)
            self.reference_to_pool = _blend(lexical.result(), reference_lsa @ self.pool_lsa_t)
        self.centrality = self._centrality()

    def vectorize(self, texts: Sequence[str]) -> tuple[sp.csr_matrix, np.ndarray]:
        """Vectors of free texts (keywords) in both spaces."""
        tfidf = self.terms.transform(texts)
        return tfidf, self._dense(tfidf, texts)

    def rows(self, index: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray]:
        """Vectors of known papers (pool or history) by row."""
        return self.tfidf[index], self.lsa[index]

    def sims_to_all(self, tfidf: sp.csr_matrix, lsa: np.ndarray) -> np.ndarray:
        """Blended cosine of query vectors to every known paper (pool and history)."""
        return _blend(tfidf @ self.tfidf.T, lsa @ self.lsa.T)

    def sims_to_reference(self, tfidf: sp.csr_matrix, lsa: np.ndarray) -> np.ndarray:
        """Blended cosine of query vectors to the reference papers (the pool comes first)."""
        return _blend(tfidf @ self.reference_tfidf_t, lsa @ self.reference_lsa_t)

    def sims_to_pool(self, tfidf: sp.csr_matrix, lsa: np.ndarray) -> np.ndarray:
        """Blended cosine of query vectors to the candidate papers only."""
        return _blend(tfidf @ self.pool_tfidf_t, lsa @ self.pool_lsa_t)

    def contains_all(self, texts: Sequence[str]) -> np.ndarray:
        """Texts x candidates: True where the paper has every known word of the text."""
        words = [
            sorted({self.vocabulary.get(t, -1) for t in tokens(text)} - {-1}) for text in texts
        ]
        rows = np.repeat(np.arange(len(texts)), [len(w) for w in words])
        cols = np.fromiter((c for w in words for c in w), int, count=rows.size)
        query = sp.csr_matrix(
            (np.ones(rows.size, np.float32), (rows, cols)), shape=(len(texts), self.tfidf.shape[1])
        )
        present = (query @ (self.pool_tfidf_t > 0).astype(np.float32)).toarray()
        needed = np.array([len(w) for w in words], np.float32)[:, None]
        return (present >= needed) & (needed > 0)

    def _centrality(self) -> np.ndarray:
        """Each candidate's similarity to the centroid of all known papers: how typical it is."""
        if self.tfidf.shape[0] < MIN_PAPERS_FOR_CENTROID:  # a handful of papers has no "typical"
            return np.zeros(self.n_pool, np.float32)
        centroid = sp.csr_matrix(normalize(np.asarray(self.tfidf.mean(axis=0))))
        return self.sims_to_pool(centroid, normalize(self.lsa.mean(axis=0, keepdims=True)))[0]

    def _dense(self, tfidf: sp.csr_matrix, texts: Sequence[str]) -> np.ndarray:
        """LSA vectors, joined by the texts' embeddings when an embedder is set."""
        if self.lsa_model is None:
            lsa = np.zeros((tfidf.shape[0], 1), dtype=np.float32)
        else:
            lsa = normalize(self.lsa_model.transform(tfidf)).astype(np.float32)
        if self.embed is None or not len(texts):
            return lsa
        lsa *= np.sqrt(1 - SEMANTIC_SHARE)
        return np.hstack([lsa, np.sqrt(SEMANTIC_SHARE) * self.embed(texts)], dtype=np.float32)


def _blend(lexical: sp.spmatrix, semantic: np.ndarray) -> np.ndarray:
    """LEXICAL_SHARE of the term cosine plus the rest of the LSA cosine, built in place."""
    semantic *= 1 - LEXICAL_SHARE
    semantic += LEXICAL_SHARE * lexical.toarray()  # denser than scattering its entries
    return semantic


class _Lsa:
    """Truncated SVD over the terms shared by two papers or more (the rest cannot co-occur)."""

    def __init__(self, tfidf: sp.csr_matrix, rows: np.ndarray, dims: int) -> None:
        fit = tfidf[rows]
        df = np.diff(fit.tocsc().indptr)
        shared = np.flatnonzero(df >= 2)
        if shared.size > LSA_TERMS:  # the most frequent shared terms carry the co-occurrences
            shared = np.sort(shared[np.argsort(-df[shared], kind="stable")[:LSA_TERMS]])
        self.columns = shared if shared.size > dims else np.arange(tfidf.shape[1])
        values, components = leading_svd(fit[:, self.columns].astype(np.float64), dims)
        # directions of a (near-)null space are arbitrary and differ from fit to fit: drop them
        self.components = components[values > RANK_TOLERANCE * values.max(initial=0.0)]

    def transform(self, tfidf: sp.csr_matrix) -> np.ndarray:
        return np.asarray(tfidf[:, self.columns] @ self.components.T)


def leading_svd(matrix: sp.csr_matrix, dims: int) -> tuple[np.ndarray, np.ndarray]:
    """The `dims` largest singular values and their right singular vectors, exactly.

    From the eigenvectors of the smaller Gram matrix (at most LSA_PAPERS square): LAPACK's
    dense solver uses every core and gives the same result on every run; ARPACK takes twice as
    long on one core, and a randomized SVD moved nDCG by +-0.03 with its seed. Squaring the
    singular values only loses precision far below RANK_TOLERANCE, where directions are dropped.
    """
    by_rows = matrix.shape[0] <= matrix.shape[1]
    gram = (matrix @ matrix.T if by_rows else matrix.T @ matrix).toarray()
    size = gram.shape[0]
    eigenvalues, vectors = scipy.linalg.eigh(gram, subset_by_index=[size - dims, size - 1])
    values = np.sqrt(np.maximum(eigenvalues[::-1], 0.0))
    vectors = vectors[:, ::-1]
    if not by_rows:
        return values, vectors.T
    components = np.asarray(matrix.T @ vectors).T
    components /= np.where(values > 0, values, 1.0)[:, None]
    return values, components


def _fit_svd(tfidf: sp.csr_matrix, rows: np.ndarray) -> _Lsa | None:
    """LSA on those known papers; None when there are too few papers or terms to decompose."""
    dims = min(LSA_DIMS, rows.size - 1, tfidf.shape[1] - 1)
    return _Lsa(tfidf, rows, dims) if dims >= 2 else None


def _reference(n_known: int, n_pool: int) -> np.ndarray:
    """The pool and an even sample of history, LSA_PAPERS in all unless the pool is bigger.

    Topics are fitted on them and queries draw their feedback papers from them, so neither costs
    more however many papers subscribers have liked.
    """
    history = _even(np.arange(n_pool, n_known), max(LSA_PAPERS - n_pool, 0))
    return np.concatenate([np.arange(n_pool), history])


def _even(rows: np.ndarray, at_most: int) -> np.ndarray:
    """At most `at_most` of `rows`, evenly spaced."""
    if rows.size <= at_most:
        return rows
    return rows[np.linspace(0, rows.size - 1, at_most).round().astype(int)]
