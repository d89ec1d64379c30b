"""config/sources.toml: every kind reads, and a wrong entry fails by name and key."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from digest.bench_sources import listing, run
from digest.config import ConfigError
from digest.sources.formats import parse
from digest.sources_config import load_sources

REPO = Path(__file__).parent.parent
NOW = datetime(2025, 3, 14, 11, 0, tzinfo=UTC)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(text)
    return path


def test_the_shipped_sources_file_reads() -> None:
    sources = load_sources(REPO / "config" / "sources.toml")
    assert {s.kind for s in sources} >= {"arxiv_listing", "huggingface"}
    listing_url = next(s for s in sources if s.kind == "arxiv_listing").plain_url(NOW)
    assert listing_url.startswith("https://rss.arxiv.org/rss/cs.LG+")


def test_urls_are_built_per_kind(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[[source]]
name = "ml"
kind = "arxiv_listing"
categories = ["cs.LG", "stat.ML"]
feed = "atom"

[[source]]
name = "hf"
kind = "huggingface"

[[source]]
name = "api"
kind = "arxiv_api"
categories = ["cs.CL"]
days = 2
page_size = 100
""",
    )
    ml, hf, api = load_sources(path)
    assert ml.plain_url(NOW) == "https://rss.arxiv.org/atom/cs.LG+stat.ML"
    assert hf.plain_url(NOW) == "https://huggingface.co/api/daily_papers?date=2025-03-14&limit=100"
    assert api.api_url(NOW, 100) == (
        "http://export.arxiv.org/api/query?search_query=(cat:cs.CL)+AND+submittedDate:"
        "[202503120000+TO+202503141100]&sortBy=submittedDate&sortOrder=descending"
        "&start=100&max_results=100"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[source]]\nname = "x"\nkind = "ftp"\n', "source 1 (x): kind: Input should be"),
        ('[[source]]\nname = "x"\nkind = "rss"\n', "source 1 (x): rss needs a `url`"),
        ('[[source]]\nname = "x"\nkind = "arxiv_listing"\n', "needs `categories`"),
        ('[[source]]\nname = "x"\nkind = "rss"\nurl = "u"\ncolour = 1\n', "unknown key 'colour'"),
        ('[[source]]\nname = "x"\nkind = "rss"\nurl = "u"\n' * 2, "repeated: x"),
        ("[[source]\n", "is not valid TOML"),
    ],
)
def test_a_wrong_entry_fails_by_name(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_sources(write(tmp_path, text))


def test_disabled_sources_are_left_out(tmp_path: Path) -> None:
    path = write(tmp_path, '[[source]]\nname = "x"\nkind = "huggingface"\nenabled = false\n')
    assert load_sources(path) == []


def test_a_missing_file_means_no_sources(tmp_path: Path) -> None:
    assert load_sources(tmp_path / "nope.toml") == []


def test_bench_listing_has_distinct_papers_in_the_real_format() -> None:
    fmt, parsed = parse(listing(600))
    assert fmt == "arxiv-rss" and len({p.id for p in parsed.papers}) == 600


@pytest.mark.slow
def test_bench_reports_well_formed_figures() -> None:
    figures = run(quick=True)
    keys = {"name", "value", "unit", "target", "baseline", "ok"}
    assert all(keys <= figure.keys() for figure in figures) and len(figures) == 2
