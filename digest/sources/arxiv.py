"""arXiv listing feeds (rss.arxiv.org, RSS 2.0 and Atom) and the arXiv API (Atom) to `PaperIn`."""

from __future__ import annotations

import re
from typing import Any

import feedparser

from digest.sources import PaperIn, Parsed, ParseError, arxiv_id, arxiv_version
from digest.sources.text import clean_text, normalize_doi, parse_date, split_authors

SOURCE = "arxiv"
ALL_ANNOUNCE_TYPES = ("new", "cross", "replace", "replace-cross")
UPDATE_TYPES = ("replace", "replace-cross")
_PREFIX = re.compile(r"^\s*arXiv:\S+\s+Announce Type:\s*[\w-]+\s*(?:Abstract:)?\s*", re.I)
_HARMLESS_BOZO = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)


def read_feed(data: bytes) -> Any:
    """Parse feed bytes from memory; a feed broken mid-way is an error, not a partial list."""
    if not data.strip():
        raise ParseError("empty file")
    feed = feedparser.parse(data, sanitize_html=False, resolve_relative_uris=False)
    error = feed.get("bozo_exception")
    if feed.get("bozo") and not isinstance(error, _HARMLESS_BOZO):
        raise ParseError(f"malformed XML ({error})")
    if not feed.get("version") and not feed.entries:
        raise ParseError("not an RSS or Atom feed")
    return feed


def parse_listing(
    data: bytes, keep: tuple[str, ...] = ALL_ANNOUNCE_TYPES, source: str = SOURCE
) -> Parsed:
    """Parse a listing feed; keep the announce types in `keep` (replacements only update)."""
    feed = read_feed(data)
    title = feed.feed.get("title", "")
    if title.lower().startswith("feed error"):
        raise ParseError(f"arXiv answered with an error feed: {clean_text(title)}")
    result = Parsed()
    for entry in feed.entries:
        announce = (entry.get("arxiv_announce_type") or "new").strip().lower()
        if announce not in keep:
            continue
        paper = _listing_paper(entry, announce, source)
        if paper is None:
            result.skipped.append(f"item without an arXiv id: {clean_text(entry.get('title'))!r}")
        else:
            result.papers.append(paper)
    return result


def _listing_paper(entry: Any, announce: str, source: str) -> PaperIn | None:
    key = arxiv_id(entry.get("id", "")) or arxiv_id(entry.get("link", ""))
    if not key:
        return None
    announced = parse_date(entry.get("published_parsed") or entry.get("updated_parsed"))
    version = arxiv_version(entry.get("id")) or arxiv_version(entry.get("summary"))
    return PaperIn(
        id=key,
        title=clean_text(entry.get("title")),
        source=source,
        abstract=clean_text(_PREFIX.sub("", entry.get("summary", ""))),
        authors=split_authors([a.get("name", "") for a in entry.get("authors", [])]),
        categories=_categories(entry),
        published=announced if announce == "new" else None,
        announced=announced if announce in ("new", "cross") else None,
        abs_url=f"https://arxiv.org/abs/{key}",
        pdf_url=pdf_url(key, version),
        doi=normalize_doi(entry.get("arxiv_doi")),
        journal_ref=clean_text(entry.get("arxiv_journal_reference")) or None,
        license=entry.get("rights") or None,
        announce_type=announce,
        version=version,
    )


def pdf_url(key: str, version: int | None) -> str:
    """Return the PDF link of a paper version (the version-less link means the newest)."""
    return f"https://arxiv.org/pdf/{key}v{version}" if version else f"https://arxiv.org/pdf/{key}"


def _categories(entry: Any) -> list[str]:
    terms = [tag.get("term", "").strip() for tag in entry.get("tags", [])]
    return list(dict.fromkeys(term for term in terms if term))


def parse_api(data: bytes, source: str = SOURCE) -> Parsed:
    """Parse an arXiv API answer; its error feed is an error, never zero papers."""
    feed = read_feed(data)
    entries = feed.entries
    if len(entries) == 1 and clean_text(entries[0].get("title")).lower() == "error":
        raise ParseError(f"arXiv API error: {clean_text(entries[0].get('summary'))}")
    total = feed.feed.get("opensearch_totalresults")
    result = Parsed(total=int(total) if str(total or "").isdigit() else None)
    for entry in entries:
        paper = _api_paper(entry, source)
        if paper is None:
            result.skipped.append(f"entry without an arXiv id: {clean_text(entry.get('title'))!r}")
        else:
            result.papers.append(paper)
    return result


def _api_paper(entry: Any, source: str) -> PaperIn | None:
    key = arxiv_id(entry.get("id", ""))
    if not key:
        return None
    primary = (entry.get("arxiv_primary_category") or {}).get("term")
    version = arxiv_version(entry.get("id")) or arxiv_version(_pdf_link(entry))
    categories = _categories(entry)
    return PaperIn(
        id=key,
        title=clean_text(entry.get("title")),
        source=source,
        abstract=clean_text(entry.get("summary")),
        authors=[clean_text(a.get("name")) for a in entry.get("authors", []) if a.get("name")],
        categories=categories,
        primary_category=primary or next(iter(categories), None),
        published=parse_date(entry.get("published_parsed")),
        abs_url=f"https://arxiv.org/abs/{key}",
        pdf_url=pdf_url(key, version),
        doi=normalize_doi(entry.get("arxiv_doi")),
        journal_ref=clean_text(entry.get("arxiv_journal_ref")) or None,
        comment=clean_text(entry.get("arxiv_comment")) or None,
        version=version,
    )


def _pdf_link(entry: Any) -> str | None:
    for link in entry.get("links", []):
        if link.get("title") == "pdf" or link.get("type") == "application/pdf":
            return str(link.get("href"))
    return None
