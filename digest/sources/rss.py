"""Any RSS/Atom feed (journals, bioRxiv, blogs) to `PaperIn`, keyed by arXiv id, DOI or link."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from digest.sources import PaperIn, Parsed, arxiv_id
from digest.sources.arxiv import read_feed
from digest.sources.text import clean_text, normalize_doi, parse_date, split_authors

SOURCE = "rss"


def parse_feed(data: bytes, source: str = SOURCE) -> Parsed:
    """Parse a generic feed; an item with neither DOI nor link cannot be keyed and is skipped."""
    feed = read_feed(data)
    result = Parsed()
    for entry in feed.entries:
        paper = _paper(entry, source)
        if paper is None:
            result.skipped.append(f"item without a DOI or link: {clean_text(entry.get('title'))!r}")
        else:
            result.papers.append(paper)
    return result


def natural_key(doi: str | None, link: str | None) -> str | None:
    """Return the key of a non-arXiv paper: `doi:<doi>`, else the normalized link."""
    if doi:
        return f"doi:{doi}"
    if not link:
        return None
    parts = urlsplit(link.strip())
    if not parts.netloc:
        return None
    host = parts.netloc.lower().removeprefix("www.")
    return urlunsplit(("https", host, parts.path.rstrip("/"), parts.query, ""))


def _paper(entry: Any, source: str) -> PaperIn | None:
    link = entry.get("link")
    doi = normalize_doi(entry.get("prism_doi") or entry.get("dc_identifier") or entry.get("id"))
    key = arxiv_id(link or "") or natural_key(doi, link)
    if not key:
        return None
    return PaperIn(
        id=key,
        title=clean_text(entry.get("title")),
        source=source,
        abstract=clean_text(entry.get("summary")),
        authors=split_authors([a.get("name", "") for a in entry.get("authors", [])]),
        categories=[t["term"] for t in entry.get("tags", []) if t.get("term")],
        published=parse_date(entry.get("published_parsed") or entry.get("updated_parsed")),
        abs_url=link,
        doi=doi,
    )
