"""How one paper reads in an email: readable title, short author list, trimmed abstract, safe links.

A paper looks the same in every subscriber's digest, so its `Paper` view is cached; only the
reasons and the feedback links (`Card`) are per subscriber.
"""

from __future__ import annotations

import re
import textwrap
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from digest.latex import latex_to_text

if TYPE_CHECKING:
    from digest.render import DigestItem

_SPACE = re.compile(r"\s")
TEXT_WIDTH = 72
TITLE_LIMIT = 250
SUBJECT_TITLE_LIMIT = 60
ABSTRACT_LIMIT = 300
AUTHORS_SHOWN = 3  # lists longer than AUTHORS_SHOWN + 2 read "A, B, C, … Z"
CATEGORIES_SHOWN = 4
REASONS_SHOWN = 3
REASON_LIMIT = 120


class Paper(NamedTuple):
    """The finished strings of one paper, the same for every subscriber."""

    title: str
    short_title: str
    abs_url: str | None
    meta: str
    code_url: str | None
    abstract: str


class Card(NamedTuple):
    """One paper in one subscriber's digest: the paper plus why and the feedback links."""

    paper: Paper
    reasons: str
    reasons_text: str  # the same, wrapped for the plain-text part
    more_url: str | None
    less_url: str | None


def card(item: DigestItem) -> Card:
    """Turn a DigestItem into display strings."""
    why = reasons(item.reasons)
    return Card(
        paper=paper(
            item.id,
            item.title,
            item.abs_url,
            tuple(item.authors),
            tuple(item.categories),
            item.published,
            item.upvotes,
            item.code_url,
            item.abstract,
        ),
        reasons=why,
        reasons_text=wrap(why),
        more_url=safe_url(item.more_url),
        less_url=safe_url(item.less_url),
    )


@lru_cache(maxsize=4096)
def paper(
    id: str,
    title: str,
    abs_url: str,
    authors: tuple[str, ...],
    categories: tuple[str, ...],
    published: date | None,
    upvotes: int | None,
    code_url: str | None,
    abstract: str,
) -> Paper:
    """Build a paper's display strings once, however many digests it appears in."""
    shown = clean_title(title)
    return Paper(
        title=shown,
        short_title=shorten(shown, SUBJECT_TITLE_LIMIT),
        abs_url=safe_url(abs_url),
        meta=meta(authors, categories, published, upvotes),
        code_url=safe_url(code_url),
        abstract=clean_abstract(abstract),
    )


def clean_title(title: str) -> str:
    """Show LaTeX readably, on one line, at a bounded length."""
    return shorten(latex_to_text(" ".join(title.split())), TITLE_LIMIT)


def clean_abstract(abstract: str) -> str:
    """Keep the opening of the abstract, cut at a word boundary."""
    return shorten(latex_to_text(" ".join(abstract.split())), ABSTRACT_LIMIT)


def shorten(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters at a word boundary, marking the cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.-") + "…"


def authors(names: tuple[str, ...]) -> str:
    """Shorten long author lists to the first few and the last (often the senior author)."""
    names = tuple(" ".join(name.split()) for name in names)
    if len(names) <= AUTHORS_SHOWN + 2:  # hiding one name saves nothing
        return ", ".join(names)
    return ", ".join(names[:AUTHORS_SHOWN]) + ", … " + names[-1]


def meta(
    names: tuple[str, ...], categories: tuple[str, ...], published: date | None, upvotes: int | None
) -> str:
    """Authors, categories, date and upvotes on one line."""
    parts = [authors(names)] if names else []
    if categories:
        parts.append(", ".join(categories[:CATEGORIES_SHOWN]))
    if published:
        parts.append(short_date(published))
    if upvotes:
        parts.append(f"{upvotes} upvote{'' if upvotes == 1 else 's'}")
    return " · ".join(parts)


@lru_cache(maxsize=4096)
def _reason(reason: str) -> str:
    return shorten(" ".join(reason.split()), REASON_LIMIT)


def reasons(items: list[str]) -> str:
    """Say why the paper was picked, briefly."""
    kept = [_reason(reason) for reason in items[:REASONS_SHOWN]]
    return ("Why: " + "; ".join(kept)) if kept else ""


@lru_cache(maxsize=8192)
def wrap(text: str, indent: str = "   ") -> str:
    """Wrap a line for the plain-text part (cached: reasons repeat across subscribers)."""
    return "\n".join(textwrap.wrap(text, TEXT_WIDTH, subsequent_indent=indent,
                                   break_long_words=False, break_on_hyphens=False))  # fmt: skip


def safe_url(url: str | None) -> str | None:
    """Link only http(s) URLs: feed data could carry javascript: or data: links."""
    if not url:
        return None
    url = url.strip()
    if not url[:8].lower().startswith(("https://", "http://")) or _SPACE.search(url):
        return None
    return url


def short_date(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def long_date(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def header(considered: int, picked: int, cadence: str) -> str:
    """The line under the masthead: how much was read and how much was kept."""
    period = "this week" if cadence == "weekly" else "today"
    noun = "paper" if considered == 1 else "papers"
    return f"{considered:,} {noun} considered {period}, {picked} picked for you."


def preheader(shown: list[Card], misses: list[Card]) -> str:
    """The inbox preview line: the first titles."""
    if not shown:
        return "Nothing cleared your bar today" + (": a few near misses." if misses else ".")
    return shorten(" · ".join(c.paper.short_title for c in shown[:3]), 140)
