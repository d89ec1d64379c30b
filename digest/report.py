"""Readable terminal summaries of a tick and of the demo (rich)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from digest.pipeline import TickReport

console = Console()


@contextmanager
def send_progress() -> Iterator[Callable[[int, int], None]]:
    """A progress bar for the send step on a terminal (nothing when output is redirected)."""
    with Progress(
        TextColumn("sending"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=not sys.stderr.isatty(),
    ) as bar:
        task = bar.add_task("send", total=None, visible=False)  # shown once sending starts
        yield lambda done, total: bar.update(task, completed=done, total=total, visible=True)


def print_tick(report: TickReport) -> None:
    """One paragraph: what the tick did, stage by stage."""
    sent = report.sent
    console.print(
        f"tick at {report.now:%Y-%m-%d %H:%M} UTC: {report.due} due,"
        f" {report.queued} editions queued ({report.quiet} quiet),"
        f" {report.considered} papers considered; sent {sent.sent},"
        f" retry {sent.retry}, bounced {sent.bounced}, failed {sent.failed}"
    )
    if report.waiting_for_sources:
        console.print(f"[yellow]waiting for stale sources: {', '.join(report.waiting_for_sources)}")
    timings = ", ".join(f"{stage} {seconds:.2f}s" for stage, seconds in report.timings.items())
    console.print(f"[dim]{timings}")


def print_demo(result: Any) -> None:
    """Per subscriber: which papers were sent, and why."""
    for file in result.ingested:
        counts = file.counts
        what = (
            f"{file.format}: {counts.new} new, {counts.updated} updated, {counts.unchanged} same"
            if file.ok and counts
            else f"error: {file.error}"
        )
        console.print(f"[dim]ingested {file.path.name} ({what})")
    for email, items in result.report.picks.items():
        table = Table(title=email, title_justify="left", show_lines=False, expand=True)
        table.add_column("#", width=3)
        table.add_column("paper", ratio=3)
        table.add_column("why", ratio=2)
        for n, item in enumerate(items, 1):
            mark = " (near miss)" if item.get("near_miss") else ""
            table.add_row(
                str(n), f"{item['id']}{mark} {item.get('title', '')}", "; ".join(item["reasons"])
            )
        console.print(table)
    print_tick(result.report)
    console.print(
        f"second tick the same day sent {result.second.sent.sent} (each edition goes out once)"
    )
    console.print(f"[bold]{result.emails} emails in {result.outbox}/ (.eml and .html)")
