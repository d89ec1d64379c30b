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


def arxiv_id(text: str) -> str | None:
    """Return the version-less arXiv id in an id, URL or 'arXiv:...' string, else None."""
    match = _ARXIV_ID.search(text.strip())
    return match.group("id") if match else None
