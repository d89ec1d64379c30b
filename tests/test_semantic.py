"""Sentence embeddings: cached once per text, and carrying queries past shared words."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from digest.config import Settings, load_settings
from digest.ranking import Profile, rank
from digest.ranking.semantic import CachedEmbedder, available, load_embedder
from digest.sources import PaperIn

needs_model = pytest.mark.skipif(
    not available() and not os.environ.get("DIGEST_REQUIRE_SEMANTIC"),
    reason="the [semantic] extra is not installed (make semantic)",
)


def P(paper_id: str, title: str, abstract: str) -> PaperIn:
    return PaperIn(id=paper_id, title=title, source="test", abstract=abstract)


def with_semantic(on: bool, tmp_path: Path) -> Settings:
    settings = load_settings(embedding_cache=tmp_path / "emb.sqlite3")
    return settings.model_copy(update={"semantic": on})  # the suite's environment turns it off


class CountingEncoder:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        self.seen.extend(texts)
        return np.array([[len(t), 1.0] for t in texts], np.float32)


def test_each_text_is_encoded_once_across_processes_sharing_the_cache_file(tmp_path: Path):
    cache = tmp_path / "emb.sqlite3"
    first = CountingEncoder()
    vectors = CachedEmbedder(first, cache)(["a", "bb", "a"])
    assert first.seen == ["a", "bb"]
    assert vectors.tolist() == [[1, 1], [2, 1], [1, 1]]
    later = CountingEncoder()  # a new process: nothing in memory, everything on disk
    assert CachedEmbedder(later, cache)(["bb", "ccc"]).tolist() == [[2, 1], [3, 1]]
    assert later.seen == ["ccc"]


def test_turned_off_means_no_embedder(tmp_path: Path):
    assert load_embedder(with_semantic(False, tmp_path)) is None


@needs_model
def test_a_keyword_finds_a_paper_that_shares_no_word_with_it(tmp_path: Path):
    papers = [
        *[P(f"x{i}", f"Filler paper {i}", "Numbers and tables of results.") for i in range(30)],
        P("2", "Tax policy and household savings", "An econometric panel of incomes."),
        P("3", "Galaxy cluster lensing", "Weak lensing maps of dark matter halos."),
        P("1", "Dexterous grasping with a five-fingered hand", "We pick up cups and tools."),
    ]
    profile = Profile("robots", keywords=["robot manipulation"], trending_weight=0.0)
    embed = load_embedder(with_semantic(True, tmp_path))
    assert embed is not None
    ranked = rank(papers, [profile], top_k=3, embed=embed)[0]
    assert ranked[0].id == "1"


def test_web_previews_use_embeddings_only_once_every_paper_is_encoded(tmp_path: Path):
    from digest.web.preview import _warm

    cache = tmp_path / "emb.sqlite3"
    papers = [P("1", "Grasping", "Hands."), P("2", "Lensing", "Halos.")]
    encoder = CountingEncoder()
    embed = CachedEmbedder(encoder, cache)
    assert _warm(embed, papers) is None  # a page never waits for the model
    assert encoder.seen == []
    CachedEmbedder(CountingEncoder(), cache)(["Grasping. Hands.", "Lensing. Halos."])  # pipeline
    assert _warm(embed, papers) is embed
    assert encoder.seen == []


@needs_model
def test_a_fetch_encodes_the_papers_it_brought_before_any_tick_ranks_them(settings, sessions):
    from datetime import UTC, datetime

    from digest import db
    from digest.poll import encode_new_papers
    from digest.store import papers as paper_store

    cache = settings.outbox_dir.parent / "emb.sqlite3"
    on = settings.model_copy(update={"semantic": True, "embedding_cache": cache})
    now = datetime(2025, 1, 6, 12, tzinfo=UTC)
    papers = [P("2501.00001", "Grasping", "Hands."), P("2501.00002", "Lensing", "Halos.")]
    with db.session_scope(sessions) as session:
        paper_store.upsert_papers(session, papers, now)
    encode_new_papers(on, sessions, now)
    later = CountingEncoder()
    assert CachedEmbedder(later, cache).knows(["Grasping. Hands.", "Lensing. Halos."])
