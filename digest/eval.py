"""`digest eval`: the relevance dev-set protocol, run through `rank()` beside two baselines.

Per listing day, the day's papers are the pool and earlier papers the unlabelled history; both
reach the rankers without their categories, which are the labels. Metrics are binary-relevance,
macro-averaged over subscribers, at a digest of 10.
"""

from __future__ import annotations

import gzip
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC

from digest.ranking import Profile, rank
from digest.ranking.semantic import Embedder

DIGEST_SIZE = 10
MAJOR_LABELS = frozenset({"cs.CV", "cs.CL", "cs.AI", "cs.LG"})
METHODS = ("digest", "tfidf", "svm")
METRICS = ("ndcg", "p", "hit", "mrr")
FULL_SIZE = 200  # papers from which the baselines use arxiv-sanity-lite's df pruning


class DevSetError(Exception):
    """The dev set is missing or unreadable; the message says which file."""


@dataclass(slots=True)
class EvalPaper:
    """A dev-set paper as the rankers may see it: no categories."""

    id: str
    title: str
    abstract: str
    authors: list[str]
    day: str
    categories: list[str] = field(default_factory=list)
    published: date | None = None
    upvotes: int | None = None


def default_data_dir() -> Path:
    """The shared dev set beside the checkout, where the team keeps it."""
    return Path("..") / "shared" / "eval-dev"


def load(data_dir: Path) -> tuple[list[EvalPaper], list[dict[str, Any]]]:
    """Read papers (labels dropped) and subscribers from a dev-set directory."""
    if not (data_dir / "papers.jsonl.gz").is_file():
        raise DevSetError(
            f"no relevance dev set in {data_dir} (expected papers.jsonl.gz); pass --data DIR"
        )
    papers = [
        EvalPaper(
            p["id"],
            p.get("title") or "",
            p.get("abstract") or "",
            p.get("authors") or [],
            p.get("date") or "",
        )
        for p in _lines(data_dir / "papers.jsonl.gz")
    ]
    return papers, list(_lines(data_dir / "subscribers.jsonl.gz"))


def _lines(path: Path) -> Iterable[dict[str, Any]]:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]
    except (OSError, ValueError) as exc:
        raise DevSetError(f"cannot read {path}: {exc}") from exc


def evaluate(
    data_dir: Path, embed: Embedder | None = None
) -> dict[str, dict[str, dict[str, float]]]:
    """Run the protocol; returns group -> method -> metric -> mean, plus a `count` per group."""
    papers, subscribers = load(data_dir)
    by_day: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for sub in subscribers:
        by_day[sub["day"]].append(sub)
    scores: dict[str, dict[str, list[dict[str, float]]]] = defaultdict(lambda: defaultdict(list))
    for day, subs in sorted(by_day.items()):
        pool = [p for p in papers if p.day == day]
        history = [p for p in papers if p.day < day]
        for sub, ranked in zip(subs, _rank_day(pool, history, subs, embed), strict=True):
            for method, ids in ranked.items():
                for group in _groups(sub):
                    scores[group][method].append(metrics(ids, set(sub["relevant_ids"])))
    return {group: _means(by_method) for group, by_method in sorted(scores.items())}


def _rank_day(
    pool: list[EvalPaper],
    history: list[EvalPaper],
    subs: list[dict[str, Any]],
    embed: Embedder | None,
):
    profiles = [_profile(sub) for sub in subs]
    ours = rank(pool, profiles, history=history, top_k=DIGEST_SIZE, embed=embed)
    known = {p.id: p for p in history + pool}
    baselines = Baselines(pool, history)
    for sub, ranked in zip(subs, ours, strict=True):
        liked = [known[i] for i in _liked(sub) if i in known]
        ranked_by = {
            "digest": [r.id for r in ranked],
            "tfidf": baselines.cosine(sub["profile"].get("keywords") or [], liked),
        }
        if liked:
            ranked_by["svm"] = baselines.svm(liked)
        yield ranked_by


def _profile(sub: dict[str, Any]) -> Profile:
    """The subscriber's profile as a digest profile: keywords or liked papers, nothing else."""
    return Profile(
        sub["sub_id"],
        keywords=list(sub["profile"].get("keywords") or []),
        liked=_liked(sub),
        trending_weight=0.0,
    )


def _liked(sub: dict[str, Any]) -> list[str]:
    return list(sub["profile"].get("liked_ids") or [])


def _groups(sub: dict[str, Any]) -> list[str]:
    track = sub["track"]
    return [f"{track}/all"] + ([f"{track}/minor"] if sub["label"] not in MAJOR_LABELS else [])


class Baselines:
    """arxiv-sanity-lite's TF-IDF (cosine, and per-user LinearSVC) on the pool and history.

    Fitted on the same papers `rank()` sees, so both sides know exactly as much.
    """

    def __init__(self, pool: Sequence[EvalPaper], history: Sequence[EvalPaper]) -> None:
        self.pool = list(pool)
        docs = {p.id: p for p in [*pool, *history]}
        self.row = {pid: i for i, pid in enumerate(docs)}
        texts = [f"{p.title} | {p.abstract} | {', '.join(p.authors)}" for p in docs.values()]
        self.vectorizer = TfidfVectorizer(
            ngram_range=(1, 2),
            max_features=20_000,
            min_df=5 if len(texts) >= FULL_SIZE else 1,  # a toy set cannot afford the pruning
            max_df=0.1 if len(texts) >= FULL_SIZE else 1.0,
            sublinear_tf=True,
            stop_words="english",
            strip_accents="unicode",
        )
        self.matrix = self.vectorizer.fit_transform(texts)
        self.pool_matrix = self.matrix[: len(self.pool)]

    def cosine(self, keywords: list[str], liked: Sequence[EvalPaper]) -> list[str]:
        """Top papers by cosine to the keyword query or the liked papers' centroid."""
        if keywords:
            query = self.vectorizer.transform([" ".join(keywords)]).toarray()
        else:
            query = np.asarray(self.matrix[[self.row[p.id] for p in liked]].mean(axis=0))
        return self._top(np.asarray(self.pool_matrix @ normalize(query).T).ravel())

    def svm(self, liked: Sequence[EvalPaper]) -> list[str]:
        """Top papers by a LinearSVC with the liked papers as positives, the pool as negatives."""
        rows = [self.row[p.id] for p in liked]
        features = self.matrix[list(range(len(self.pool))) + rows]
        labels = np.r_[np.zeros(len(self.pool)), np.ones(len(rows))]
        model = LinearSVC(C=0.01, class_weight="balanced", max_iter=20_000, tol=1e-6)
        model.fit(features, labels)
        return self._top(model.decision_function(self.pool_matrix))

    def _top(self, scores: np.ndarray) -> list[str]:
        order = np.argsort(-scores, kind="stable")[:DIGEST_SIZE]
        return [self.pool[i].id for i in order]


def metrics(ranked: Sequence[str], relevant: set[str]) -> dict[str, float]:
    """nDCG@10, P@10, hit@10 and MRR@10 of one digest (binary relevance)."""
    gains = [1.0 if pid in relevant else 0.0 for pid in ranked[:DIGEST_SIZE]]
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = sum(1 / math.log2(i + 2) for i in range(min(DIGEST_SIZE, len(relevant))))
    first = next((i for i, g in enumerate(gains) if g), None)
    return {
        "ndcg": dcg / ideal if ideal else 0.0,
        "p": sum(gains) / DIGEST_SIZE,
        "hit": 1.0 if first is not None else 0.0,
        "mrr": 1.0 / (first + 1) if first is not None else 0.0,
    }


def _means(by_method: dict[str, list[dict[str, float]]]) -> dict[str, dict[str, float]]:
    out = {
        m: {k: float(np.mean([r[k] for r in rows])) for k in METRICS}
        for m, rows in by_method.items()
    }
    out["count"] = {"n": float(len(by_method["digest"]))}
    return out


def format_table(results: dict[str, dict[str, dict[str, float]]]) -> str:
    """A plain-text table: digest's four metrics beside each baseline's ('-': not applicable)."""
    names = {"ndcg": "nDCG@10", "p": "P@10", "hit": "hit@10", "mrr": "MRR"}
    head = [f"{'':<15}{'':>5}"] + [f"{m:<31}" for m in METHODS]
    cols = [f"{'group':<15}{'n':>5}"] + [" ".join(f"{names[k]:>7}" for k in METRICS)] * 3
    lines = ["  ".join(head).rstrip(), "  ".join(cols)]
    for group, by_method in results.items():
        cells = [f"{group:<15}{int(by_method['count']['n']):>5}"]
        for method in METHODS:
            row = by_method.get(method)
            cells.append(" ".join(f"{row[k]:>7.3f}" if row else f"{'-':>7}" for k in METRICS))
        lines.append("  ".join(cells))
    lines.append(
        "tfidf: TF-IDF cosine, svm: LinearSVC(C=0.01), both as arxiv-sanity-lite sets them;"
        " MRR counts the first 10."
    )
    return "\n".join(lines)
