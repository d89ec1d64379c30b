"""Bench: a whole day for a large list — scored, rendered, sent to a local SMTP sink running in
another process, and recorded in SQLite — with each stage's share of the time.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from digest import db
from digest.bench import figure
from digest.config import Settings, load_settings
from digest.models import Interest, Subscriber
from digest.outbox import free_port
from digest.pipeline import run_tick
from digest.sources import PaperIn
from digest.sources.formats import parse
from digest.store import papers as paper_store

DEMO_FEED = Path(__file__).parent / "demo_data" / "arxiv-cs.rss"
TARGET_SECONDS = 180.0
NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)


def run(quick: bool = False) -> list[dict[str, Any]]:
    """100,000 digests end to end (2,000 with quick)."""
    subscribers = 2_000 if quick else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        seconds, report = _day(Path(tmp), subscribers, papers=1_000)
    sent = report.sent.sent
    figures = [
        figure(
            f"{subscribers:,} digests scored+rendered+sent+recorded"
            f" (sink: {Path(sink_command(0)[0]).name})",
            seconds,
            "s",
            f"<= {TARGET_SECONDS:.0f} s for 100,000",
            None,
            seconds * 100_000 / subscribers <= TARGET_SECONDS,
        ),
        figure(
            "digests per second",
            sent / seconds if seconds else 0.0,
            "/s",
            f">= {100_000 / TARGET_SECONDS:.0f}/s",
            None,
            sent / seconds >= 100_000 / TARGET_SECONDS,
        ),
    ]
    total = sum(report.timings.values()) or 1.0
    for stage, spent in report.timings.items():
        figures.append(figure(f"share: {stage}", 100 * spent / total, "%", "", None, True))
    if sent != subscribers:
        figures.append(
            figure("digests sent (all must be)", sent, "", f"{subscribers}", None, False)
        )
    return figures


def sink_command(port: int) -> list[str]:
    """Postfix's smtp-sink (C, as fast as a real relay) when installed, else digest's own."""
    postfix_sink = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
    if Path(postfix_sink).exists():
        user = ["-u", "nobody"] if os.geteuid() == 0 else []
        return [postfix_sink, *user, f"127.0.0.1:{port}", "64"]
    return [sys.executable, "-m", "digest", "mailcatcher", "--port", str(port), "--discard"]


def _day(workdir: Path, subscribers: int, papers: int) -> tuple[float, Any]:
    port = free_port()
    sink = subprocess.Popen(
        sink_command(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        settings = _settings(workdir, port)
        sessions = _fill(settings, subscribers, papers)
        _wait_for_port(port)
        start = time.perf_counter()
        report = run_tick(settings, now=NOW, fetch=False, sessions=sessions)
        return time.perf_counter() - start, report
    finally:
        sink.terminate()
        sink.wait(10)


def _settings(workdir: Path, port: int) -> Settings:
    return load_settings(
        database_url=f"sqlite:///{workdir / 'bench.db'}",
        smtp_port=port,
        smtp_connections=2,
        outbox_dir=workdir / "outbox",
        sources_file=workdir / "none.toml",
        base_url="https://digest.example.org",
        secret_key="bench",
        semantic=False,  # the target is the send path; embeddings are a one-off per paper
    )


def _fill(settings: Settings, subscribers: int, papers: int) -> Any:
    engine = db.make_engine(settings.database_url)
    db.upgrade(engine)
    sessions = db.make_sessionmaker(engine)
    pool = _papers(papers)
    vocabulary = sorted({w.lower() for p in pool for w in p.title.split() if len(w) > 6})
    rng = random.Random(7)
    with db.session_scope(sessions) as session:
        paper_store.upsert_papers(session, pool, NOW)
        session.execute(insert(Subscriber), [_subscriber(n) for n in range(subscribers)])
        session.execute(
            insert(Interest),
            [
                {"subscriber_id": n + 1, "kind": "keyword", "value": word, "weight": 1.0}
                for n in range(subscribers)
                for word in set(rng.sample(vocabulary, 2))
            ],
        )
    return sessions


def _papers(count: int) -> list[PaperIn]:
    _, parsed = parse(DEMO_FEED.read_bytes())
    base = parsed.papers
    out = []
    for n in range(count):
        paper = base[n % len(base)]
        copy = PaperIn(**{f: getattr(paper, f) for f in paper.__slots__})
        copy.id = f"2503.{n:05d}"
        out.append(copy)
    return out


def _subscriber(n: int) -> dict[str, Any]:
    return {
        "email": f"reader{n}@example.org",
        "status": "active",
        "timezone": "UTC",
        "send_time": "07:00",
        "cadence": "daily",
        "weekday": 0,
        "max_papers": 10,
        "min_score": 0.0,
        "trending_weight": 0.2,
        "category_mode": "boost",
        "token_version": 1,
        "bounce_count": 0,
        "created_at": NOW,
    }


def _wait_for_port(port: int) -> None:
    import socket

    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the SMTP sink did not start on port {port}")
