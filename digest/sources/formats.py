"""Which format a file or response is in, and the parser for each format (the registry)."""

from __future__ import annotations

import re
from collections.abc import Callable

from digest.sources import Parsed, ParseError, arxiv, huggingface, jsonl, rss

ARXIV_RSS = "arxiv-rss"
ARXIV_ATOM = "arxiv-atom"
ARXIV_API = "arxiv-api"
HF_DAILY = "hf-daily"
JSONL = "jsonl"
RSS = "rss"

PARSERS: dict[str, Callable[..., Parsed]] = {
    ARXIV_RSS: arxiv.parse_listing,
    ARXIV_ATOM: arxiv.parse_listing,
    ARXIV_API: arxiv.parse_api,
    HF_DAILY: huggingface.parse_daily_papers,
    JSONL: jsonl.parse_lines,
    RSS: rss.parse_feed,
}

_ARXIV_NS = re.compile(rb"xmlns:\w+=[\"']http://arxiv\.org/schemas/atom[\"']")
_XML_ROOT = re.compile(rb"<(?:[\w-]+:)?(rss|feed|RDF)\b")


def detect_format(data: bytes) -> str:
    """Name the format of feed bytes by their first few kilobytes; raise ParseError if unknown."""
    head = data[:8192].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        raise ParseError("empty file")
    if head[:1] in (b"[", b"{"):
        return _detect_json(head)
    root = _XML_ROOT.search(head)
    if root is None:
        raise ParseError("unknown format: not an RSS/Atom feed, daily-papers JSON or JSON lines")
    return _detect_xml(head, root.group(1))


def _detect_json(head: bytes) -> str:
    if head.startswith(b"["):
        return HF_DAILY
    return JSONL


def _detect_xml(head: bytes, root: bytes) -> str:
    arxiv_ns = _ARXIV_NS.search(head) is not None
    if root == b"rss" and (arxiv_ns or b"rss.arxiv.org" in head):
        return ARXIV_RSS
    if root == b"feed" and (b"opensearch" in head.lower() or b"arxiv.org/api" in head):
        return ARXIV_API
    if root == b"feed" and (b"rss.arxiv.org" in head or b"announce_type" in head):
        return ARXIV_ATOM
    return RSS


def parse(data: bytes, fmt: str | None = None, source: str | None = None) -> tuple[str, Parsed]:
    """Detect (unless given) the format and parse; return the format name and what was parsed."""
    fmt = fmt or detect_format(data)
    parser = PARSERS[fmt]
    parsed = parser(data, source=source) if source else parser(data)
    untitled = [p for p in parsed.papers if not p.title]
    if untitled:
        parsed.papers = [p for p in parsed.papers if p.title]
        parsed.skipped.extend(f"item without a title: {p.id}" for p in untitled)
    return fmt, parsed
