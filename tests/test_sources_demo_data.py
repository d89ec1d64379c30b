"""The bundled demo day is in the real formats and covers the demo subscribers' topics."""

from __future__ import annotations

from pathlib import Path

from digest.sources.formats import parse

DEMO = Path(__file__).parent.parent / "digest" / "demo_data"


def test_demo_listing_and_daily_papers_parse_without_skips() -> None:
    fmt, listing = parse((DEMO / "arxiv-cs.rss").read_bytes())
    assert fmt == "arxiv-rss" and len(listing.papers) == 442 and not listing.skipped
    fmt, daily = parse((DEMO / "hf-daily-papers.json").read_bytes())
    assert fmt == "hf-daily" and len(daily.papers) == 67 and not daily.skipped
    assert {p.id for p in daily.papers} <= {p.id for p in listing.papers}
    assert any(p.code_url for p in daily.papers)


def test_demo_day_covers_each_persona_topic() -> None:
    _, listing = parse((DEMO / "arxiv-cs.rss").read_bytes())
    texts = [f"{p.title} {p.abstract}".lower() for p in listing.papers]
    for topic in ("diffusion model", "reinforcement learning", "speech", "fine-tuning", "lora"):
        assert sum(topic in text for text in texts) >= 5, topic


def test_demo_listing_has_new_and_cross_announcements_with_categories() -> None:
    _, listing = parse((DEMO / "arxiv-cs.rss").read_bytes())
    assert {p.announce_type for p in listing.papers} == {"new", "cross"}
    categories = {c for p in listing.papers for c in p.categories}
    assert {"cs.LG", "cs.CL", "cs.CV", "eess.AS", "cs.RO", "stat.ML"} <= categories
    assert all(len(p.authors) >= 1 for p in listing.papers)
