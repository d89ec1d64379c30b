"""Load recorded feed files into the store: detect each file's format, parse, upsert.

Each file is its own transaction, so a malformed or empty file is reported by name and skipped
while the others are loaded.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, inspect
from sqlalchemy.orm import Session, sessionmaker

from digest import db
from digest.sources import ParseError
from digest.sources.formats import parse
from digest.store import papers as paper_store
from digest.store.papers import UpsertCounts

log = logging.getLogger(__name__)


class SchemaMissing(Exception):
    """The database has no tables yet."""


@dataclass(slots=True)
class FileReport:
    """What loading one file did, or why it could not."""

    path: Path
    format: str | None = None
    counts: UpsertCounts | None = None
    skipped: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def require_schema(engine: Engine) -> None:
    """Raise SchemaMissing with the command that fixes it when the tables do not exist."""
    if not inspect(engine).has_table("papers"):
        raise SchemaMissing("the database has no tables: run `digest db upgrade` first")


def ingest_bytes(
    session: Session, data: bytes, now: datetime, fmt: str | None = None
) -> tuple[str, UpsertCounts, list[str]]:
    """Parse feed bytes (format detected unless given) and upsert their papers."""
    fmt, parsed = parse(data, fmt)
    counts = paper_store.upsert_papers(session, parsed.papers, now)
    return fmt, counts, parsed.skipped


def ingest_files(
    sessions: sessionmaker[Session], paths: Iterable[Path], now: datetime
) -> list[FileReport]:
    """Load each file in its own transaction; a bad file is reported and the rest go on."""
    return [ingest_file(sessions, Path(path), now) for path in paths]


def ingest_file(sessions: sessionmaker[Session], path: Path, now: datetime) -> FileReport:
    """Load one file and say what happened; never raise for a bad file."""
    report = FileReport(path)
    try:
        data = path.read_bytes()
        with db.session_scope(sessions) as session:
            report.format, report.counts, report.skipped = ingest_bytes(session, data, now)
    except OSError as exc:
        report.error = f"cannot read: {exc.strerror or exc}"
    except ParseError as exc:
        report.error = str(exc)
    for reason in report.skipped:
        log.warning("%s: skipped %s; the rest of the file is loaded", path, reason)
    if report.error:
        log.debug("%s: %s; file skipped, other files go on", path, report.error)
    return report
