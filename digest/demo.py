"""`make demo`: one whole offline day on the bundled sample data.

A fresh SQLite database, the sample arXiv listing and Hugging Face Daily Papers files, five
subscribers with clearly different interests, a real local SMTP server writing outbox/, and a tick.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from digest import db
from digest.config import Settings
from digest.delivery import utcnow
from digest.ingest import ingest_files
from digest.outbox import OutboxServer
from digest.pipeline import TickReport, run_tick
from digest.store import subscribers as subscriber_store

DEMO_DATA = Path(__file__).parent / "demo_data"


@dataclass(frozen=True)
class Persona:
    email: str
    timezone: str
    keywords: list[str]
    categories: list[str] = field(default_factory=list)
    cadence: str = "daily"
    trending_weight: float = 0.2


PERSONAS = [
    Persona(
        "ada@example.org", "Europe/London", ["diffusion models", "image generation", "denoising"]
    ),
    Persona(
        "bo@example.org",
        "America/New_York",
        ["reinforcement learning", "policy optimization"],
        ["cs.LG"],
    ),
    Persona(
        "chen@example.org", "Asia/Shanghai", ["speech recognition", "speech synthesis", "audio"]
    ),
    Persona(
        "dana@example.org",
        "America/Los_Angeles",
        ["fine-tuning large language models", "parameter-efficient fine-tuning", "LoRA"],
        trending_weight=0.4,
    ),
    Persona(
        "eli@example.org",
        "Europe/Berlin",
        ["retrieval", "language agents", "tool use"],
        cadence="weekly",
        trending_weight=0.6,
    ),
]


@dataclass
class DemoResult:
    report: TickReport
    second: TickReport
    outbox: Path
    ingested: list[Any]
    emails: int


def demo_files() -> list[Path]:
    """The bundled recorded feeds (everything in demo_data but its README)."""
    return sorted(f for f in DEMO_DATA.iterdir() if f.is_file() and f.suffix != ".md")


def demo_settings(base: Settings, smtp: OutboxServer, workdir: Path) -> Settings:
    """The demo's settings: its own database and outbox, the local SMTP server."""
    return base.model_copy(
        update={
            "database_url": f"sqlite:///{workdir / 'var' / 'demo.db'}",
            "outbox_dir": workdir / "outbox",
            "smtp_host": smtp.host,
            "smtp_port": smtp.port,
            "smtp_security": "none",
            "smtp_username": "",
            "sources_file": workdir / "var" / "demo-sources.toml",
            "executor": "inline",
        }
    )


def run_demo(base: Settings, workdir: Path) -> DemoResult:
    """Run the demo day in `workdir`; return what happened."""
    outbox = workdir / "outbox"
    shutil.rmtree(outbox, ignore_errors=True)
    (workdir / "var" / "demo.db").unlink(missing_ok=True)
    with OutboxServer(outbox) as smtp:
        settings = demo_settings(base, smtp, workdir)
        engine = db.make_engine(settings.database_url)
        db.upgrade(engine)
        sessions = db.make_sessionmaker(engine)
        now = utcnow()
        ingested = ingest_files(sessions, demo_files(), now)
        _add_personas(settings, sessions, now)
        report = run_tick(settings, now=now, fetch=False, sessions=sessions)
        second = run_tick(settings, now=now, fetch=False, sessions=sessions)
        emails = len(smtp.received)
    engine.dispose()
    return DemoResult(report, second, outbox, ingested, emails)


def _add_personas(settings: Settings, sessions: Any, now: datetime) -> None:
    with db.session_scope(sessions) as session:
        for p in PERSONAS:
            local = now.astimezone(ZoneInfo(p.timezone))
            subscriber_store.create_subscriber(
                session,
                p.email,
                settings=settings,
                now=now,
                keywords=p.keywords,
                categories=p.categories,
                timezone=p.timezone,
                send_time="00:00",
                cadence=p.cadence,
                weekday=local.weekday(),
                trending_weight=p.trending_weight,
                confirmed=True,
            )
