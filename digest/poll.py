"""Fetch every configured source through the fetch door and store what it brings.

Each source is its own transaction: a failure is logged with the source's name and what happens
next, recorded in its state for `digest status`, and the other sources go on. A listing that is
empty or unchanged when arXiv has announced marks the source stale; on a day without an
announcement it is just a quiet day.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from digest import db
from digest.config import Settings
from digest.fetch import Fetcher, FetchError, Response
from digest.models import SourceState
from digest.ranking.semantic import load_embedder
from digest.readiness import carries_current_listing, listing_today
from digest.sources import PaperIn, ParseError
from digest.sources.formats import RSS, parse
from digest.sources_config import ARXIV_API, Source, load_sources, lookup_url
from digest.store import papers as paper_store

log = logging.getLogger(__name__)


@dataclass
class SourceResult:
    """What fetching one source did."""

    name: str
    kind: str
    url: str
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    items: int = 0
    errors: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    not_modified: bool = False
    stale: bool = False
    quiet: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors


Progress = Callable[[SourceResult], None]


def fetch_all(
    settings: Settings,
    sessions: sessionmaker[Session],
    now: datetime,
    *,
    fetcher: Fetcher | None = None,
    on_done: Progress | None = None,
) -> dict[str, SourceResult]:
    """Fetch every enabled source in settings.sources_file; return a result per source name."""
    results: dict[str, SourceResult] = {}
    door = fetcher or Fetcher(settings)
    try:
        for source in load_sources(settings.sources_file):
            results[source.name] = fetch_source(door, sessions, source, now)
            if on_done:
                on_done(results[source.name])
    finally:
        if fetcher is None:
            door.close()
    encode_new_papers(settings, sessions, now)
    return results


def encode_new_papers(settings: Settings, sessions: sessionmaker[Session], since: datetime) -> None:
    """Encode the papers first seen since `since` (sentence embeddings, when on), so the tick
    that ranks them finds their vectors ready instead of waiting for the model."""
    embed = load_embedder(settings)
    if embed is None:
        return
    from digest.ranking.text import embed_text  # scikit-learn, only when it is needed

    with db.session_scope(sessions) as session:
        texts = [embed_text(p) for p in paper_store.candidate_papers(session, since)]
    try:
        if texts:
            embed(texts)
    except Exception:  # best effort: ranking encodes whatever is missing, and reports it there
        log.exception("could not encode %d new papers ahead of ranking", len(texts))


def fetch_source(
    door: Fetcher, sessions: sessionmaker[Session], source: Source, now: datetime
) -> SourceResult:
    """Fetch, parse and store one source; never raise for the source's own failures."""
    result = SourceResult(source.name, source.kind, source.plain_url(now))
    start = time.perf_counter()
    try:
        if source.kind == "arxiv_api":
            _fetch_pages(door, sessions, source, now, result)
        else:
            _fetch_one(door, sessions, source, now, result)
    except (FetchError, ParseError) as exc:
        _failed(sessions, source, now, result, str(exc))
    except Exception as exc:  # one source's surprise must not stop the others
        log.exception("source %s: unexpected error; skipped this time", source.name)
        _failed(sessions, source, now, result, f"unexpected error: {exc!r}")
    result.seconds = time.perf_counter() - start
    return result


def _fetch_one(
    door: Fetcher,
    sessions: sessionmaker[Session],
    source: Source,
    now: datetime,
    result: SourceResult,
) -> None:
    """Fetch a feed (and earlier daily pages); validators and the content hash spare parsing."""
    with db.session_scope(sessions) as session:
        state = paper_store.source_state(session, source.name)
        same_url = state.url == result.url
        etag, modified = (state.etag, state.last_modified) if same_url else (None, None)
        known_hash = state.content_hash if same_url else None
    first, *earlier = source.urls(now)
    response = door.get(first, etag=etag, last_modified=modified)
    digest = hashlib.sha256(response.content).hexdigest()
    # A 200 with the very bytes already stored costs no parsing either.
    result.not_modified = response.not_modified or digest == known_hash
    papers = [] if result.not_modified else _parse(source, response, result)
    for url in earlier:  # earlier days' pages: small, and their upvotes keep moving
        papers.extend(_parse(source, door.get(url), result))
    with db.session_scope(sessions) as session:
        _store(session, source, now, result, papers, response, digest)


def _parse(source: Source, response: Response, result: SourceResult) -> list[PaperIn]:
    fmt, parsed = parse(response.content, source.format)
    result.skipped.extend(parsed.skipped)
    papers = _keep(source, parsed.papers)
    if fmt == RSS:
        _label(papers, source.name)
    return papers


def _label(papers: list[PaperIn], name: str) -> None:
    """Credit papers from a generic feed to the configured source, not to 'rss'."""
    for paper in papers:
        paper.source = name


def _keep(source: Source, papers: list[PaperIn]) -> list[PaperIn]:
    if source.kind != "arxiv_listing":
        return papers
    keep = set(source.announce_types)
    return [p for p in papers if (p.announce_type or "new") in keep]


def _store(
    session: Session,
    source: Source,
    now: datetime,
    result: SourceResult,
    papers: list[PaperIn],
    response: Response,
    digest: str,
) -> None:
    state = paper_store.source_state(session, source.name, result.url)
    current = source.kind != "arxiv_listing" or carries_current_listing(papers, now)
    fresh = not result.not_modified and bool(papers) and current
    if not response.not_modified:
        state.etag, state.last_modified = response.etag, response.last_modified
    if not result.not_modified:
        state.content_hash = digest
    if papers:
        counts = paper_store.upsert_papers(session, papers, now)
        result.new, result.updated, result.unchanged = counts.new, counts.updated, counts.unchanged
        result.items = len(papers)
    paper_store.record_fetch_ok(
        session, state, now, items=result.items or state.items_seen, new=int(fresh)
    )
    if source.kind == "arxiv_listing" and not fresh:
        _judge_staleness(source, now, result, state)
    for reason in result.skipped:
        log.warning("source %s: skipped %s; the rest of the feed is stored", source.name, reason)


def _judge_staleness(
    source: Source, now: datetime, result: SourceResult, state: SourceState
) -> None:
    today = listing_today(state, now)
    result.quiet, result.stale = today == "quiet day", today == "waiting"
    if result.quiet:
        log.info("source %s: no listing today (no announcement); quiet day", source.name)
    elif result.stale:
        log.warning(
            "source %s: stale: today's listing is not in the feed yet; sends wait for it",
            source.name,
        )


def _fetch_pages(
    door: Fetcher,
    sessions: sessionmaker[Session],
    source: Source,
    now: datetime,
    result: SourceResult,
) -> None:
    papers: list[PaperIn] = []
    start, total = 0, None
    while start < source.max_items and (total is None or start < total):
        response = door.get(source.api_url(now, start))
        _, parsed = parse(response.content, source.format)
        papers.extend(parsed.papers)
        result.skipped.extend(parsed.skipped)
        total = parsed.total if parsed.total is not None else 0
        if not parsed.papers:
            break
        start += source.page_size
    with db.session_scope(sessions) as session:
        counts = paper_store.upsert_papers(session, papers, now)
        result.new, result.updated, result.unchanged = counts.new, counts.updated, counts.unchanged
        result.items = len(papers)
        state = paper_store.source_state(session, source.name, result.url)
        paper_store.record_fetch_ok(session, state, now, items=len(papers), new=counts.new)


def _failed(
    sessions: sessionmaker[Session], source: Source, now: datetime, result: SourceResult, error: str
) -> None:
    result.errors.append(error)
    log.warning(
        "source %s: %s; skipped this time, the other sources go on and the next fetch retries",
        source.name,
        error,
    )
    with db.session_scope(sessions) as session:
        state = paper_store.source_state(session, source.name, result.url)
        paper_store.record_fetch_error(session, state, now, error)


def lookup_arxiv(
    door: Fetcher,
    sessions: sessionmaker[Session],
    ids: list[str],
    now: datetime,
    base: str = ARXIV_API,
) -> paper_store.UpsertCounts:
    """Fetch papers by arXiv id through the API, 100 per request, and store them.

    Raises FetchError or ParseError (the API's error feed) for the caller to report.
    """
    counts = paper_store.UpsertCounts()
    for start in range(0, len(ids), 100):
        response = door.get(lookup_url(ids[start : start + 100], base))
        _, parsed = parse(response.content, "arxiv-api")
        with db.session_scope(sessions) as session:
            counts += paper_store.upsert_papers(session, parsed.papers, now)
    return counts
