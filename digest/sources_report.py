"""Terminal output of the paper commands: ingest, fetch and papers."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from digest.ingest import FileReport
from digest.models import Paper
from digest.poll import SourceResult


def print_ingest(reports: list[FileReport]) -> None:
    """One line per file: the format and counts, or why it was skipped."""
    for report in reports:
        if report.error:
            click.echo(f"{report.path}: error: {report.error}; skipped")
            continue
        counts = report.counts
        assert counts is not None
        line = f"{report.path}: {report.format}: {counts.new} new, {counts.updated} updated, "
        line += f"{counts.unchanged} unchanged"
        extras = [f"{counts.skipped} replacements of unknown papers"] if counts.skipped else []
        extras += [f"{len(report.skipped)} items skipped"] if report.skipped else []
        click.echo(line + (f" ({', '.join(extras)})" if extras else ""))


def fetch_table(results: Iterable[SourceResult]) -> Table:
    """The per-source summary of `digest fetch`."""
    table = Table("source", "new", "updated", "unchanged", "errors", "took", title="Fetch")
    for r in results:
        note = "; ".join(r.errors) or ("not modified" if r.not_modified else "")
        note += " (stale)" if r.stale else " (quiet day)" if r.quiet else ""
        table.add_row(
            r.name, str(r.new), str(r.updated), str(r.unchanged), note.strip(), f"{r.seconds:.2f}s"
        )
    return table


def paper_record(paper: Paper) -> dict[str, Any]:
    """One stored paper in digest's JSON-lines format (what `digest ingest` reads back)."""
    published = paper.published or paper.announced
    return {
        "id": paper.id,
        "title": paper.title,
        "abstract": paper.abstract,
        "authors": paper.authors,
        "categories": paper.categories,
        "published": published.isoformat() if published else None,
        "upvotes": paper.upvotes,
        "sources": paper.sources,
    }


def print_papers(papers: list[Paper], fmt: str, console: Console) -> None:
    """List papers as JSON lines or as a table."""
    if fmt == "jsonl":
        for paper in papers:
            click.echo(json.dumps(paper_record(paper), ensure_ascii=False))
        return
    table = Table()
    table.add_column("id", no_wrap=True)
    table.add_column("title", ratio=3)
    for name in ("authors", "categories", "published", "upvotes", "sources"):
        table.add_column(name, ratio=1)
    for paper in papers:
        record = paper_record(paper)
        authors = (
            paper.authors[0] + (" et al." if len(paper.authors) > 1 else "")
            if paper.authors
            else ""
        )
        table.add_row(
            paper.id,
            paper.title,
            authors,
            " ".join(paper.categories),
            record["published"] or "-",
            "-" if paper.upvotes is None else str(paper.upvotes),
            ", ".join(paper.sources),
        )
    console.print(table)
    console.print(f"{len(papers)} papers")
