"""How one paper reads in an email: readable title, short author list, trimmed abstract, safe links.

The same paper appears in many subscribers' digests, so the text transforms are cached.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from digest.latex import latex_to_text

if TYPE_CHECKING:
    from digest.render import DigestItem

TITLE_LIMIT = 250
SUBJECT_TITLE_LIMIT = 60
ABSTRACT_LIMIT = 300
AUTHORS_SHOWN = 3  # longer lists read "A, B, C, ... Z"
CATEGORIES_SHOWN = 4
REASONS_SHOWN = 3
REASON_LIMIT = 120


@dataclass(frozen=True)
class Card:
    """One paper's finished strings; templates only place them."""

    title: str
    short_title: str
    abs_url: str | None
    meta: str
    code_url: str | None
    abstract: str
    reasons: str
    more_url: str | None
    less_url: str | None


def card(item: DigestItem) -> Card:
    """Turn a DigestItem into display strings."""
    title = clean_title(item.title)
    return Card(
        title=title,
        short_title=shorten(title, SUBJECT_TITLE_LIMIT),
        abs_url=safe_url(item.abs_url),
        meta=meta(item),
        code_url=safe_url(item.code_url),
        abstract=clean_abstract(item.abstract),
        reasons=reasons(item.reasons),
        more_url=safe_url(item.more_url),
        less_url=safe_url(item.less_url),
    )


@lru_cache(maxsize=4096)
def clean_title(title: str) -> str:
    """Show LaTeX readably, on one line, at a bounded length."""
    return shorten(latex_to_text(" ".join(title.split())), TITLE_LIMIT)


@lru_cache(maxsize=4096)
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


def authors(names: list[str]) -> str:
    """Shorten long author lists to the first few and the last (often the senior author)."""
    return _authors(tuple(" ".join(name.split()) for name in names))


@lru_cache(maxsize=4096)
def _authors(names: tuple[str, ...]) -> str:
    if len(names) <= AUTHORS_SHOWN + 1:
        return ", ".join(names)
    return ", ".join(names[:AUTHORS_SHOWN]) + ", … " + names[-1]


def meta(item: DigestItem) -> str:
    """Authors, categories, date and upvotes on one line."""
    parts = [authors(item.authors)] if item.authors else []
    if item.categories:
        parts.append(", ".join(item.categories[:CATEGORIES_SHOWN]))
    if item.published:
        parts.append(short_date(item.published))
    if item.upvotes:
        parts.append(f"{item.upvotes} upvote{'' if item.upvotes == 1 else 's'}")
    return " · ".join(parts)


def reasons(items: list[str]) -> str:
    """Say why the paper was picked, briefly."""
    kept = [shorten(" ".join(reason.split()), REASON_LIMIT) for reason in items[:REASONS_SHOWN]]
    return ("Why: " + "; ".join(kept)) if kept else ""


def safe_url(url: str | None) -> str | None:
    """Link only http(s) URLs: feed data could carry javascript: or data: links."""
    if not url:
        return None
    url = url.strip()
    if urlsplit(url).scheme.lower() not in ("http", "https") or any(c in url for c in "\r\n"):
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
    return shorten(" · ".join(c.short_title for c in shown[:3]), 140)
