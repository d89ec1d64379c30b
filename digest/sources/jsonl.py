"""digest's own JSON lines paper format (what `digest papers --format jsonl` writes).

One object per line: id, title, abstract, authors, categories, published, upvotes (and
optionally any other `PaperIn` field). Bad lines are skipped with their line number.
"""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

from digest.sources import PaperIn, Parsed, ParseError, arxiv_id
from digest.sources.text import clean_text, parse_date

SOURCE = "jsonl"
_LISTS = ("authors", "categories", "ai_keywords")
_INTS = ("upvotes", "comments", "github_stars")
_KNOWN = {f.name for f in fields(PaperIn)} - {"id", "title", "source", "published", "announced"}


def parse_lines(data: bytes, source: str = SOURCE) -> Parsed:
    """Parse JSON lines; a file without a single usable line is an error."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    result = Parsed()
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            _add_line(result, number, line, source)
    if not result.papers:
        detail = f" ({result.skipped[0]})" if result.skipped else ""
        raise ParseError(f"no papers in file{detail}")
    return result


def _add_line(result: Parsed, number: int, line: str, source: str) -> None:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        result.skipped.append(f"line {number}: malformed JSON ({exc.msg})")
        return
    paper = from_dict(row, source) if isinstance(row, dict) else None
    if paper is None:
        result.skipped.append(f"line {number}: no id or title")
    else:
        result.papers.append(paper)


def from_dict(row: dict[str, Any], source: str = SOURCE) -> PaperIn | None:
    """Build a PaperIn from one JSON object, or None when it has no id or title."""
    raw_id = str(row.get("id") or "").strip()
    title = clean_text(row.get("title"))
    if not raw_id or not title:
        return None
    paper = PaperIn(id=arxiv_id(raw_id) or raw_id, title=title, source=source)
    for name in _KNOWN & row.keys():
        setattr(paper, name, _value(name, row[name]))
    paper.abstract = clean_text(paper.abstract)
    paper.published = parse_date(row.get("published"))
    paper.announced = parse_date(row.get("announced"))
    return paper


def _value(name: str, value: Any) -> Any:
    if name in _LISTS:
        items = value.split(",") if isinstance(value, str) else value or []
        return [str(item).strip() for item in items if str(item).strip()]
    if name in _INTS:
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    return value if value is None or isinstance(value, str) else str(value)
