"""Ranking: relevance, hard filters, followed authors, trending, reasons, and bad input."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest

from digest.ranking import Profile, rank, rank_chunks
from digest.sources import PaperIn

DATA = Path(__file__).parent / "data" / "rank"
NOW = datetime(2025, 1, 3, 12, 0)


def load(name: str) -> list[PaperIn]:
    rows = [json.loads(line) for line in (DATA / name).read_text().splitlines() if line]
    return [
        PaperIn(
            id=r["id"],
            title=r["title"],
            source="test",
            abstract=r["abstract"],
            authors=r["authors"],
            categories=r.get("categories", []),
            published=date.fromisoformat(r["published"]),
            upvotes=r["upvotes"],
        )
        for r in rows
    ]


@pytest.fixture
def papers() -> list[PaperIn]:
    return load("papers.jsonl")


@pytest.fixture
def history() -> list[PaperIn]:
    return load("history.jsonl")


def ids(results) -> list[str]:
    return [r.id for r in results]


def rank_one(papers, profile, **kwargs):
    return rank(papers, [profile], now=NOW, **kwargs)[0]


def test_papers_matching_a_keyword_come_first(papers):
    alice = Profile("alice", keywords=["robots"], trending_weight=0.0)
    top = ids(rank_one(papers, alice, top_k=2))
    assert set(top) == {"2501.00003", "2501.00004"}


def test_a_liked_paper_from_history_pulls_its_topic_up(papers, history):
    bob = Profile("bob", liked=["2412.09002"], trending_weight=0.0)
    first = rank_one(papers, bob, history=history, top_k=3)[0]
    assert first.id in {"2501.00003", "2501.00004"}
    assert any(
        reason.startswith("close to a paper you liked: Walking robots") for reason in first.reasons
    )


def test_a_disliked_paper_pushes_its_topic_down(papers, history):
    plain = Profile("carol", keywords=["learning"], trending_weight=0.0)
    disliking = replace(plain, disliked=["2412.09002"])
    before = ids(rank_one(papers, plain, history=history, top_k=12))
    after = ids(rank_one(papers, disliking, history=history, top_k=12))
    assert after.index("2501.00004") > before.index("2501.00004")


def test_a_followed_authors_paper_is_always_in_and_above_the_bar(papers):
    dave = Profile("dave", keywords=["diffusion"], authors=["K. Park"], min_score=0.9)
    results = rank_one(papers, dave, top_k=3)
    followed = next(r for r in results if r.id == "2501.00012")
    assert followed.above_min
    assert "by a followed author: Kim Park" in followed.reasons


def test_an_excluded_term_rules_a_paper_out(papers):
    erin = Profile("erin", keywords=["diffusion models"], exclude=["LoRA"])
    assert "2501.00001" not in ids(rank_one(papers, erin, top_k=12))


@pytest.mark.parametrize(
    ("term", "excluded"),
    [
        ("ice", {"c"}),  # a whole word: "device" and "ices" stay
        ("Graph Networks", {"a", "b"}),  # a phrase, across case and punctuation
        ("C++", {"d"}),
        ("GPT-4", {"e"}),
        ("networks graph", set()),  # the words in that order only
        ("Schrödinger", {"f"}),
        ("!!", set()),
    ],
)
def test_an_excluded_term_rules_out_papers_holding_it_as_whole_words(term, excluded):
    texts = {
        "a": "Graph networks for molecules",
        "b": "Learning on graph - networks at scale",
        "c": "Melting ice sheets seen from a device with ices",
        "d": "Compiling C++ templates faster",
        "e": "Probing GPT-4 on arithmetic",
        "f": "The schrodinger equation, solved by networks of graphs",
    }
    day = [
        PaperIn(id=f"2501.0000{i}", title=title, source="test", abstract="", authors=[])
        for i, title in enumerate(texts.values())
    ]
    profile = Profile("p", keywords=["graph"], exclude=[term])
    kept = {r.id for r in rank_one(day, profile, top_k=10)}
    label = dict(zip((p.id for p in day), texts, strict=True))
    assert {label[p.id] for p in day} - {label[i] for i in kept} == excluded


def test_a_paper_already_sent_never_returns_whatever_its_version(papers):
    frank = Profile("frank", keywords=["diffusion"])
    sent = ["2501.00001v3", "arXiv:2501.00002"]
    got = ids(rank_one(papers, frank, top_k=12, exclude_ids=[sent]))
    assert "2501.00001" not in got and "2501.00002" not in got
    assert len(got) == len(papers) - 2


def test_category_filter_keeps_only_that_category_and_boost_raises_it(papers):
    filtering = Profile(
        "grace", keywords=["learning"], categories=["cs.RO"], category_mode="filter"
    )
    got = rank_one(papers, filtering, top_k=12)
    assert {r.id for r in got} == {"2501.00003", "2501.00004", "2501.00010"}  # 10 has no categories
    plain = rank_one(papers, replace(filtering, categories=[]), top_k=12)
    boosted = rank_one(papers, replace(filtering, category_mode="boost"), top_k=12)
    before, after = (next(r for r in got if r.id == "2501.00003") for got in (plain, boosted))
    assert after.relevance > before.relevance
    assert "in cs.RO" in after.reasons


def test_an_empty_profile_gets_what_everyone_reads_and_says_so(papers):
    got = rank_one(papers, Profile("heidi"), top_k=3)
    assert ids(got) == ["2501.00005", "2501.00001", "2501.00007"]
    assert got[0].reasons == ["trending today", "120 upvotes"]
    assert all(r.above_min for r in got)


def test_unknown_liked_ids_fall_back_to_trending(papers):
    got = rank_one(papers, Profile("ivan", liked=["9999.99999", "not-an-id"]), top_k=2)
    assert ids(got) == ["2501.00005", "2501.00001"]


@pytest.mark.parametrize("count", [0, 1])
def test_a_day_with_one_paper_or_none_still_ranks(papers, count):
    profiles = [Profile("judy", keywords=["robots"]), Profile("ken")]
    got = rank(papers[:count], profiles, now=NOW)
    assert [len(r) for r in got] == [count, count]


def test_no_profiles_gives_no_rankings(papers):
    assert rank(papers, [], now=NOW) == []


def test_empty_abstracts_and_non_english_text_rank_without_error(papers):
    got = rank_one(papers, Profile("leo", keywords=["traduction automatique"]), top_k=12)
    assert got[0].id == "2501.00009"
    assert "matches: traduction automatique" in got[0].reasons
    assert "2501.00010" in ids(got)


def test_a_quiet_day_returns_near_misses_below_the_bar(papers):
    mallory = Profile("mallory", keywords=["protein folding"], min_score=0.5)
    got = rank_one(papers, mallory, top_k=3)
    assert len(got) == 3 and not any(r.above_min for r in got)


def test_results_are_cut_at_top_k_or_the_profiles_max_papers(papers):
    short = Profile("nina", keywords=["learning"], max_papers=2)
    assert len(rank_one(papers, short)) == 2
    assert len(rank_one(papers, short, top_k=5)) == 5


def test_trending_weight_one_ranks_by_upvotes(papers):
    oscar = Profile("oscar", keywords=["robots"], trending_weight=1.0)
    assert ids(rank_one(papers, oscar, top_k=2)) == ["2501.00005", "2501.00001"]


def test_upvote_velocity_lifts_a_paper(papers):
    peggy = Profile("peggy", trending_weight=1.0)
    fast = {"2501.00012": 50.0}
    before = ids(rank_one(papers, peggy, top_k=12)).index("2501.00012")
    after = ids(rank_one(papers, peggy, top_k=12, upvote_velocity=fast)).index("2501.00012")
    assert after < before


def test_reasons_name_the_matched_keywords_and_upvotes(papers):
    got = rank_one(papers, Profile("quinn", keywords=["diffusion", "LoRA"]), top_k=1)[0]
    assert got.id == "2501.00001"
    assert got.reasons[0] in ("matches: diffusion, LoRA", "matches: LoRA, diffusion")
    assert got.reasons[-1] == "42 upvotes"


def test_near_duplicates_do_not_fill_the_digest(papers):
    twins = [replace(papers[0], id=f"2501.9000{i}", upvotes=None) for i in range(4)]
    day = twins + papers[2:]
    got = ids(rank_one(day, Profile("rupert", keywords=["diffusion", "robots"]), top_k=3))
    assert sum(pid.startswith("2501.9000") for pid in got) < 3


def test_many_profiles_at_once_equal_one_at_a_time(papers, history):
    profiles = [
        Profile("a", keywords=["robots"]),
        Profile("b", liked=["2412.09003"], disliked=["2412.09001"]),
        Profile("c", authors=["Jane Doe"], exclude=["ice"]),
        Profile("d"),
        Profile("e", keywords=["language models"], categories=["cs.CL"], trending_weight=0.5),
    ]
    together = rank(papers, profiles, history=history, now=NOW)
    alone = [rank(papers, [p], history=history, now=NOW)[0] for p in profiles]
    assert [ids(r) for r in together] == [ids(r) for r in alone]
    assert [[x.reasons for x in r] for r in together] == [[x.reasons for x in r] for r in alone]


def test_chunks_add_up_to_the_whole(papers):
    profiles = [
        Profile(str(i), keywords=[["robots", "diffusion", "language"][i % 3]]) for i in range(7)
    ]
    whole = rank(papers, profiles, now=NOW)
    chunks = [r for chunk in rank_chunks(papers, profiles, now=NOW, chunk_size=3) for r in chunk]
    assert [ids(r) for r in chunks] == [ids(r) for r in whole]


def test_chunks_ranked_by_two_processes_equal_one_process(papers, history):
    profiles = [
        Profile(str(i), keywords=[["robots", "diffusion", "language models"][i % 3]])
        for i in range(9)
    ] + [Profile("liker", liked=["2412.09003"]), Profile("follower", authors=["Jane Doe"])]
    alone = rank(papers, profiles, history=history, now=NOW, workers=1)
    chunks = rank_chunks(papers, profiles, history=history, now=NOW, chunk_size=2, workers=2)
    together = [ranked for chunk in chunks for ranked in chunk]
    assert [ids(r) for r in together] == [ids(r) for r in alone]
    assert [[x.reasons for x in r] for r in together] == [[x.reasons for x in r] for r in alone]


def test_the_same_paper_twice_in_the_pool_is_ranked_once(papers):
    again = replace(papers[0], id=papers[0].id + "v2")
    got = ids(rank_one([*papers, again], Profile("sybil", keywords=["diffusion"]), top_k=20))
    assert got.count("2501.00001") == 1 and len(got) == len(papers)


def test_a_keyword_of_only_common_words_is_a_near_miss_not_an_error(papers):
    got = rank_one(papers, Profile("trent", keywords=["the", "!!!"]), top_k=2)
    assert len(got) == 2 and not any(r.above_min for r in got)


def test_a_digest_of_zero_papers_is_empty(papers):
    assert rank_one(papers, Profile("uma", keywords=["robots"], max_papers=0)) == []


def test_papers_without_any_words_match_no_keyword(papers):
    blank = [replace(papers[0], id="2501.77777", title="...", abstract=""), papers[9]]
    got = rank_one(blank, Profile("victor", keywords=["diffusion"]), top_k=2)
    assert [r.relevance for r in got] == [0.0, 0.0]
    assert not any(r.above_min for r in got)
