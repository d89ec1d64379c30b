"""Named queries for papers, their upvote snapshots and the state of each source.

A paper's row merges what every source said about it, keyed by its natural key. arXiv is the
authority for the bibliographic fields; Hugging Face (and any source) brings the fields only it
knows (upvotes, code, keywords) and fills fields still empty. Refetching changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from digest.models import Paper, SourceState, UpvoteSnapshot
from digest.sources import PaperIn, arxiv_version

AUTHORITY = "arxiv"
BIBLIOGRAPHIC = (
    "title", "abstract", "authors", "categories", "primary_category",
    "doi", "journal_ref", "license", "comment", "pdf_url",
)  # fmt: skip
LATEST = ("upvotes", "comments", "github_stars", "code_url", "project_url", "ai_keywords")
FIRST = ("published", "announced", "abs_url")
FIELDS = BIBLIOGRAPHIC + LATEST + FIRST
UPDATE_ONLY = ("replace", "replace-cross")
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class UpsertCounts:
    """How an upsert went: rows created, changed, left as they were, and items not stored."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0

    def __add__(self, other: UpsertCounts) -> UpsertCounts:
        return UpsertCounts(
            self.new + other.new,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
            self.skipped + other.skipped,
        )


def upsert_papers(session: Session, papers: Iterable[PaperIn], now: datetime) -> UpsertCounts:
    """Insert or merge each paper by its key; replacements of unknown papers are skipped."""
    now = as_utc(now)
    grouped: dict[str, list[PaperIn]] = {}
    for paper in papers:
        grouped.setdefault(paper.id, []).append(paper)
    existing = {row.id: row for row in papers_by_ids(session, list(grouped))}
    new = updated = unchanged = skipped = 0
    for key, seen in grouped.items():
        row = existing.get(key)
        if row is None:
            row = _insert(session, seen, now)
            new, skipped = new + (row is not None), skipped + (row is None)
        elif _merge_all(session, row, seen, now):
            updated += 1
        else:
            unchanged += 1
    session.flush()
    return UpsertCounts(new, updated, unchanged, skipped)


def _insert(session: Session, seen: list[PaperIn], now: datetime) -> Paper | None:
    first = next((p for p in seen if p.announce_type not in UPDATE_ONLY), None)
    if first is None:
        return None
    row = Paper(id=first.id, title="", first_seen_at=now, updated_at=now, sources=[])
    row.authors, row.categories, row.ai_keywords = [], [], []
    for paper in [first, *(p for p in seen if p is not first)]:
        _merge(row, paper)
    # Listings do not say which category is primary; the first is the best guess until the API says.
    row.primary_category = row.primary_category or next(iter(row.categories), None)
    session.add(row)
    _snapshot_upvotes(session, row, None, now)
    return row


def _merge_all(session: Session, row: Paper, seen: list[PaperIn], now: datetime) -> bool:
    before = _values(row)
    for paper in seen:
        _merge(row, paper)
    if _values(row) == before:
        return False
    row.updated_at = now
    _snapshot_upvotes(session, row, before[FIELDS.index("upvotes")], now)
    return True


def _merge(row: Paper, paper: PaperIn) -> None:
    """Apply one source's view of a paper to its row, field by field."""
    # The row remembers which version it describes in its PDF link; an older version never wins.
    newer = (paper.version or 0) >= (arxiv_version(row.pdf_url) or 0)
    authority = paper.source == AUTHORITY and newer
    for name in FIELDS:
        value = getattr(paper, name)
        if value is None or value == "" or value == []:
            continue
        current = getattr(row, name)
        empty = current is None or current == "" or current == []
        wins = empty or name in LATEST or (authority and name in BIBLIOGRAPHIC)
        if wins and current != value:
            setattr(row, name, list(value) if isinstance(value, list) else value)
    if paper.source not in row.sources:
        row.sources = [*row.sources, paper.source]


def _values(row: Paper) -> tuple[Any, ...]:
    return (*(getattr(row, name) for name in FIELDS), tuple(row.sources))


def _snapshot_upvotes(session: Session, row: Paper, before: int | None, now: datetime) -> None:
    if row.upvotes is not None and row.upvotes != before:
        session.add(UpvoteSnapshot(paper_id=row.id, at=now, upvotes=row.upvotes))


def as_utc(moment: datetime) -> datetime:
    """Return an aware UTC datetime (naive values are taken as UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def papers_by_ids(session: Session, ids: Sequence[str]) -> list[Paper]:
    """Return the stored papers among `ids` (missing ids are left out), in no set order."""
    rows: list[Paper] = []
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        rows.extend(session.scalars(select(Paper).where(Paper.id.in_(chunk))))
    return rows


def list_papers(session: Session, since: datetime | None = None) -> list[Paper]:
    """Return stored papers, oldest first, optionally only those first seen at or after `since`."""
    query = select(Paper).order_by(Paper.first_seen_at, Paper.id)
    if since is not None:
        query = query.where(Paper.first_seen_at >= as_utc(since))
    return list(session.scalars(query))


def candidate_papers(session: Session, since: datetime) -> list[Paper]:
    """Return the papers first seen at or after `since`: what a new edition can choose from."""
    return list_papers(session, since)


UpvoteHistory = dict[str, list[tuple[datetime, int]]]


def upvote_history(session: Session, paper_ids: Sequence[str]) -> UpvoteHistory:
    """Return each paper's upvote snapshots, oldest first, for trending velocity."""
    history: UpvoteHistory = {key: [] for key in paper_ids}
    for start in range(0, len(paper_ids), _CHUNK):
        chunk = list(paper_ids[start : start + _CHUNK])
        query = select(UpvoteSnapshot).where(UpvoteSnapshot.paper_id.in_(chunk))
        for snap in session.scalars(query.order_by(UpvoteSnapshot.at)):
            history[snap.paper_id].append((as_utc(snap.at), snap.upvotes))
    return history


def source_states(session: Session) -> dict[str, SourceState]:
    """Return what is known of every source fetched so far, by source name."""
    return {state.name: state for state in session.scalars(select(SourceState))}


def source_state(session: Session, name: str, url: str | None = None) -> SourceState:
    """Return the state row of a source, creating an empty one on first use."""
    state = session.get(SourceState, name)
    if state is None:
        state = SourceState(name=name, url=url, items_seen=0)
        session.add(state)
    elif url:
        state.url = url
    return state


def record_fetch_ok(
    session: Session, state: SourceState, now: datetime, *, items: int, new: int
) -> None:
    """Note a successful fetch: when, how many items, and whether any paper was new."""
    state.last_ok_at = as_utc(now)
    state.items_seen = items
    if new:
        state.last_new_at = as_utc(now)


def record_fetch_error(session: Session, state: SourceState, now: datetime, error: str) -> None:
    """Note a failed fetch with its one-line reason."""
    state.last_error = error[:2000]
    state.last_error_at = as_utc(now)
