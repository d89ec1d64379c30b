"""Paper sources: each parser turns bytes into plain `PaperIn` records.

`PaperIn` is the one shape every source produces and `store.upsert_papers` consumes. Fields a
source does not know stay None/empty, so merging the same paper from several sources keeps what
each one knows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

_ARXIV_ID = re.compile(
    r"(?:arxiv\.org/(?:abs|pdf|html)/|arxiv(?:\.org)?:|^)\s*"
    r"(?P<id>\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?(?:\.pdf)?",
    re.IGNORECASE,
)

_ARXIV_VERSION = re.compile(r"(?:\d{4}\.\d{4,5}|/\d{7})v(\d+)\b")


@dataclass(slots=True)
class PaperIn:
    """A paper as one source saw it."""

    id: str
    title: str
    source: str
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    primary_category: str | None = None
    published: date | None = None
    announced: date | None = None
    abs_url: str | None = None
    pdf_url: str | None = None
    code_url: str | None = None
    project_url: str | None = None
    doi: str | None = None
    journal_ref: str | None = None
    license: str | None = None
    comment: str | None = None
    upvotes: int | None = None
    comments: int | None = None
    github_stars: int | None = None
    ai_keywords: list[str] = field(default_factory=list)
    announce_type: str | None = None
    version: int | None = None


class ParseError(Exception):
    """Bytes that are not a feed we can read; the message says what is wrong with them."""


@dataclass(slots=True)
class Parsed:
    """What one parse produced: papers, plus a reason for each item it had to leave out."""

    papers: list[PaperIn] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    total: int | None = None


def arxiv_id(text: str) -> str | None:
    """Return the version-less arXiv id in an id, URL or 'arXiv:...' string, else None."""
    match = _ARXIV_ID.search(text.strip())
    return match.group("id") if match else None


def arxiv_version(text: str | None) -> int | None:
    """Return the version number in an arXiv id or URL ('2501.01234v3' -> 3), else None."""
    match = _ARXIV_VERSION.search(text or "")
    return int(match.group(1)) if match else None
