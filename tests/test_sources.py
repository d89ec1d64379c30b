"""Parsers turn recorded feeds in the real formats into plain PaperIn records."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from digest.sources import ParseError
from digest.sources.formats import detect_format, parse
from digest.sources.text import clean_text

FEEDS = Path(__file__).parent / "data" / "feeds"
TITLE = "Warm-Start Diffusion Policies for Offline-to-Online Reinforcement Learning"
ABSTRACT = "We study diffusion policies that are pre-trained offline and fine-tuned online."
KEYWORDS = ["diffusion policies", "offline reinforcement learning", "fine-tuning"]


def read(name: str) -> bytes:
    return (FEEDS / name).read_bytes()


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("arxiv-cs.LG.rss", "arxiv-rss"),
        ("arxiv-empty.rss", "arxiv-rss"),
        ("arxiv-cs.LG.atom", "arxiv-atom"),
        ("arxiv-api.atom", "arxiv-api"),
        ("hf-daily-papers.json", "hf-daily"),
        ("papers.jsonl", "jsonl"),
        ("journal.rss", "rss"),
    ],
)
def test_it_detects_each_format(name: str, fmt: str) -> None:
    assert detect_format(read(name)) == fmt


def test_listing_rss_item_becomes_a_plain_paper() -> None:
    _, parsed = parse(read("arxiv-cs.LG.rss"))
    paper = next(p for p in parsed.papers if p.id == "2503.10001")
    assert (
        paper.title == "Warm-Start Diffusion Policies for Offline-to-Online Reinforcement Learning"
    )
    assert (
        paper.abstract
        == "We study diffusion policies that are pre-trained offline and fine-tuned online."
    )
    assert paper.authors == ["Ada Lovelace", "Alan Turing", "Grace Hopper"]
    assert paper.categories == ["cs.LG", "cs.AI"]
    assert paper.announced == date(2025, 3, 14)
    assert paper.license == "http://creativecommons.org/licenses/by/4.0/"
    assert paper.announce_type == "new"
    assert paper.source == "arxiv"


def test_listing_keeps_doi_and_journal_reference() -> None:
    _, parsed = parse(read("arxiv-cs.LG.rss"))
    paper = next(p for p in parsed.papers if p.id == "2503.10002")
    assert paper.doi == "10.1145/1234567.8901234"
    assert paper.journal_ref == "Proc. PLDI 2025, 1-12"
    assert paper.announce_type == "cross"


def test_html_in_titles_and_abstracts_becomes_text_and_latex_is_kept() -> None:
    _, parsed = parse(read("arxiv-cs.LG.rss"))
    paper = next(p for p in parsed.papers if p.id == "2503.10002")
    assert paper.title == r"$\mathcal{B}$-Coder: Value-Based Program Synthesis & $a<b$ Bounds"
    assert "<" not in paper.abstract.replace("$x < y$", "")
    assert "<script>" not in paper.abstract
    assert "Programs synthesized with alert(1) and" in paper.abstract
    assert "$x < y$" in paper.abstract


def test_item_without_id_is_skipped_with_a_reason() -> None:
    _, parsed = parse(read("arxiv-cs.LG.rss"))
    assert parsed.skipped == ["item without an arXiv id: 'A Paper Without Any Identifier'"]


def test_announce_types_outside_the_kept_set_are_dropped() -> None:
    from digest.sources.arxiv import parse_listing

    parsed = parse_listing(read("arxiv-cs.LG.rss"), keep=("new",))
    assert {p.announce_type for p in parsed.papers} == {"new"}


def test_atom_listing_reads_the_same_fields() -> None:
    _, parsed = parse(read("arxiv-cs.LG.atom"))
    speech = next(p for p in parsed.papers if p.id == "2503.10004")
    assert speech.authors == ["Hedy Lamarr", "Katherine Johnson"]
    assert speech.categories == ["eess.AS", "cs.SD", "cs.LG"]
    assert speech.abstract == "A streaming transducer for on-device speech recognition."


def test_api_feed_gives_primary_category_comment_and_pdf() -> None:
    _, parsed = parse(read("arxiv-api.atom"))
    assert parsed.total == 5
    old = next(p for p in parsed.papers if p.id == "2410.00003")
    assert old.primary_category == "cs.IT"
    assert old.published == date(2024, 10, 1)
    assert old.doi == "10.1000/old.paper"
    assert old.journal_ref == "Bell Syst. Tech. J. 27 (2024)"
    first = next(p for p in parsed.papers if p.id == "2503.10001")
    assert first.comment == "12 pages, 4 figures"
    assert first.pdf_url == "https://arxiv.org/pdf/2503.10001v1"
    assert first.title.startswith("Warm-Start Diffusion Policies for Offline")


def test_api_error_feed_is_an_error_not_zero_papers() -> None:
    with pytest.raises(ParseError, match="incorrect id format"):
        parse(read("arxiv-api-error.atom"))


def test_feed_error_for_query_is_an_error() -> None:
    with pytest.raises(ParseError, match="Feed error for query: cs.XX"):
        parse(read("arxiv-feed-error.rss"))


def test_empty_listing_is_zero_papers() -> None:
    _, parsed = parse(read("arxiv-empty.rss"))
    assert parsed.papers == []


def test_truncated_xml_is_an_error() -> None:
    with pytest.raises(ParseError, match="malformed XML"):
        parse(read("arxiv-truncated.rss"))


def test_non_utf8_bytes_are_decoded_not_fatal() -> None:
    _, parsed = parse(read("arxiv-latin1.rss"))
    paper = next(p for p in parsed.papers if p.id == "2503.10001")
    assert paper.authors[1] == "Kurt Gödel"


@pytest.mark.parametrize("name", ["empty.json", "error-page.html"])
def test_empty_or_unknown_bytes_are_an_error(name: str) -> None:
    with pytest.raises(ParseError):
        parse(read(name))


def test_daily_papers_bring_upvotes_code_and_keywords() -> None:
    _, parsed = parse(read("hf-daily-papers.json"))
    paper = next(p for p in parsed.papers if p.id == "2503.10001")
    assert (paper.upvotes, paper.comments, paper.github_stars) == (42, 3, 128)
    assert paper.code_url == "https://github.com/example/warm-start"
    assert paper.project_url == "https://example.github.io/warm-start"
    assert paper.ai_keywords == [
        "diffusion policies",
        "offline reinforcement learning",
        "fine-tuning",
    ]
    assert paper.published == date(2025, 3, 12)
    assert parsed.skipped == ["item without an arXiv id: 'A Daily Paper Without An Id'"]


def test_daily_papers_summary_markup_becomes_text() -> None:
    _, parsed = parse(read("hf-daily-papers.json"))
    lora = next(p for p in parsed.papers if p.id == "2503.10005")
    assert (
        lora.abstract
        == "Low-rank adapters match full fine-tuning of LLMs at a fraction of the cost."
    )


def test_generic_feed_is_keyed_by_doi_else_normalized_link() -> None:
    _, parsed = parse(read("journal.rss"))
    assert [p.id for p in parsed.papers] == [
        "doi:10.1101/2025.03.01.123456",
        "https://blog.example.org/posts/no-doi",
    ]
    assert parsed.papers[0].abstract == "An atlas of every cell."
    assert len(parsed.skipped) == 1


def test_json_lines_skip_bad_lines_and_split_author_strings() -> None:
    _, parsed = parse(read("papers.jsonl"))
    assert [p.id for p in parsed.papers] == ["2503.10001", "doi:10.1101/2025.03.01.123456"]
    assert parsed.papers[1].authors == ["Rosalind Franklin", "Barbara McClintock"]
    assert parsed.skipped == ["line 3: malformed JSON (Expecting value)"]


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("a &amp;lt;b&amp;gt; c", "a c"),
        ("x  \n y", "x y"),
        ("<p>Hello <em>world</em></p>", "Hello world"),
        (r"$\alpha<\beta$ and $O(n^2)$", r"$\alpha<\beta$ and $O(n^2)$"),
        ("Caf&eacute; &#233;", "Café é"),
    ],
)
def test_clean_text_gives_plain_text(raw: str, text: str) -> None:
    assert clean_text(raw) == text


def test_daily_papers_that_are_not_utf8_are_an_error() -> None:
    with pytest.raises(ParseError, match="not UTF-8"):
        parse('[{"paper": {"id": "2503.10001", "title": "G\u00f6del"}}]'.encode("latin-1"))


def test_a_paper_with_no_title_in_json_lines_is_skipped() -> None:
    with pytest.raises(ParseError, match="line 1: no id or title"):
        parse(b'{"id": "2503.10001", "title": ""}\n')


def test_an_item_without_a_title_is_skipped_with_its_id() -> None:
    feed = read("arxiv-cs.LG.rss").replace(
        b"<title>An Old Paper Revised</title>", b"<title>  </title>"
    )
    _, parsed = parse(feed)
    assert "item without a title: 2410.00003" in parsed.skipped
    assert all(p.title for p in parsed.papers)
