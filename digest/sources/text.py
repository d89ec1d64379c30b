"""Feed text to plain text: entities unescaped, tags dropped, whitespace collapsed.

LaTeX source is kept as written (`$\\mathcal{B}$-Coder`); rendering it readably is the email's job.
"""

from __future__ import annotations

import html
import re
from datetime import date, datetime

# A tag needs a letter right after `<` and ends at `>`, so LaTeX such as `$a<b$` survives.
_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9:-]*(?:\s[^<>]*)?/?>")
_SPACE = re.compile(r"\s+")
_DOI = re.compile(r"10\.\d{4,9}/\S+")


def clean_text(value: str | None) -> str:
    """Return feed text as one line of plain text, never markup."""
    if not value:
        return ""
    text = _TAG.sub(" ", html.unescape(value))
    # Entities escaped twice (`&amp;lt;`) come through once more, then tags they formed are dropped.
    if "&" in text:
        text = _TAG.sub(" ", html.unescape(text))
    return _SPACE.sub(" ", text).strip()


def split_authors(names: list[str]) -> list[str]:
    """Split arXiv's single comma-separated creator into one name per author."""
    authors: list[str] = []
    for name in names:
        for part in re.split(r",|\band\b", clean_text(name)):
            if part.strip():
                authors.append(part.strip())
    return authors


def normalize_doi(value: str | None) -> str | None:
    """Return a bare lower-case DOI (`10.1234/x`) from a DOI, `doi:` or doi.org URL."""
    match = _DOI.search(value or "")
    return match.group(0).rstrip(".").lower() if match else None


def parse_date(value: object) -> date | None:
    """Return the date of an ISO string, `time.struct_time` or datetime, else None."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
        except ValueError:
            return None
    try:
        return date(value.tm_year, value.tm_mon, value.tm_mday)  # type: ignore[attr-defined]
    except AttributeError:
        return None
