"""Hugging Face Daily Papers (`/api/daily_papers?date=YYYY-MM-DD`, JSON) to `PaperIn`."""

from __future__ import annotations

import json
from typing import Any

from digest.sources import PaperIn, Parsed, ParseError, arxiv_id
from digest.sources.text import clean_text, parse_date

SOURCE = "huggingface"


def load_json(data: bytes) -> Any:
    """Decode JSON bytes, turning every way they can be wrong into a ParseError."""
    if not data.strip():
        raise ParseError("empty file")
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ParseError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ParseError(f"malformed JSON ({exc.msg} at line {exc.lineno})") from None


def parse_daily_papers(data: bytes, source: str = SOURCE) -> Parsed:
    """Parse a daily_papers answer: a list of {paper: {...}, numComments, ...} objects."""
    items = load_json(data)
    if not isinstance(items, list):
        raise ParseError("expected a JSON list of daily papers")
    result = Parsed()
    for item in items:
        paper = _paper(item, source) if isinstance(item, dict) else None
        if paper is None:
            result.skipped.append(f"item without an arXiv id: {_title(item)!r}")
        else:
            result.papers.append(paper)
    return result


def _paper(item: dict[str, Any], source: str) -> PaperIn | None:
    nested = item.get("paper")
    paper: dict[str, Any] = nested if isinstance(nested, dict) else item
    key = arxiv_id(str(paper.get("id") or ""))
    if not key:
        return None
    return PaperIn(
        id=key,
        title=clean_text(paper.get("title") or item.get("title")),
        source=source,
        abstract=clean_text(paper.get("summary") or item.get("summary")),
        authors=[clean_text(a.get("name")) for a in _list(paper.get("authors")) if a.get("name")],
        published=parse_date(paper.get("publishedAt") or item.get("publishedAt")),
        abs_url=f"https://arxiv.org/abs/{key}",
        code_url=paper.get("githubRepo") or None,
        project_url=paper.get("projectPage") or None,
        upvotes=_int(paper.get("upvotes")),
        comments=_int(item.get("numComments")),
        github_stars=_int(paper.get("githubStars")),
        ai_keywords=[clean_text(k) for k in _list(paper.get("ai_keywords")) if isinstance(k, str)],
    )


def _list(value: Any) -> list[Any]:
    return [v for v in value if v is not None] if isinstance(value, list) else []


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _title(item: Any) -> str:
    if not isinstance(item, dict):
        return str(item)[:60]
    nested = item.get("paper")
    paper: dict[str, Any] = nested if isinstance(nested, dict) else {}
    return clean_text(paper.get("title") or item.get("title"))
