"""The whole tick against real SQLite/PostgreSQL and a real SMTP server."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from digest import db
from digest.models import Delivery
from digest.pipeline import TickFailed, run_tick
from digest.sources import PaperIn
from digest.store import papers as paper_store
from digest.store import subscribers as subscriber_store

NOW = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)

PAPERS = [
    PaperIn(
        id=f"2503.{10000 + n}",
        title=title,
        abstract=abstract,
        source="arxiv",
        authors=["Ada Lovelace", "Alan Turing"],
        categories=[category],
        published=date(2025, 3, 13),
        upvotes=upvotes,
    )
    for n, (title, abstract, category, upvotes) in enumerate(
        [
            (
                "Denoising diffusion models for image synthesis",
                "We train diffusion models that generate images by denoising.",
                "cs.CV",
                40,
            ),
            (
                "Faster sampling for diffusion models",
                "A sampler for score-based diffusion models with fewer steps.",
                "cs.LG",
                12,
            ),
            (
                "Policy optimization in reinforcement learning",
                "Reinforcement learning agents learn a policy with proximal updates.",
                "cs.LG",
                None,
            ),
            (
                "Offline reinforcement learning without data",
                "Offline reinforcement learning fine-tuning needs no retained data.",
                "cs.LG",
                3,
            ),
            (
                "Speech recognition with small transformers",
                "Automatic speech recognition for low resource languages.",
                "cs.CL",
                None,
            ),
            ("Graph coloring bounds", "We prove bounds for sparse graphs.", "math.CO", None),
        ]
    )
]


@pytest.fixture
def day(sessions, settings):
    """A stored listing day and three subscribers (alice: diffusion, bob: RL, carol: sheep)."""
    with db.session_scope(sessions) as session:
        paper_store.upsert_papers(session, PAPERS, NOW)
        for email, keywords in [
            ("alice@example.org", ["diffusion models"]),
            ("bob@example.org", ["reinforcement learning"]),
            ("carol@example.org", ["sheep herding dogs"]),
        ]:
            subscriber_store.create_subscriber(
                session,
                email,
                settings=settings,
                now=NOW,
                keywords=keywords,
                send_time="08:00",
                timezone="UTC",
                confirmed=True,
            )
    return sessions


def _ids_for(smtp, address):
    return [r for r in smtp.received if address in r.recipients]


def test_a_tick_sends_each_due_subscriber_their_relevant_papers(settings, day, smtp):
    report = run_tick(settings, now=NOW, fetch=False, sessions=day)
    assert report.queued == 3
    alice = _ids_for(smtp, "alice@example.org")
    assert len(alice) == 1
    text = alice[0].message.get_body(preferencelist=("plain",)).get_content()
    assert "Denoising diffusion models" in text
    assert "Graph coloring" not in text


def test_the_same_tick_twice_sends_one_email_per_subscriber(settings, day, smtp):
    run_tick(settings, now=NOW, fetch=False, sessions=day)
    second = run_tick(settings, now=NOW, fetch=False, sessions=day)
    assert second.queued == 0 and second.sent.sent == 0
    recipients = sorted(r for m in smtp.received for r in m.recipients)
    assert recipients == sorted(set(recipients))


def test_the_email_has_both_parts_and_every_list_header(settings, day, smtp):
    run_tick(settings, now=NOW, fetch=False, sessions=day)
    message = _ids_for(smtp, "bob@example.org")[0].message
    for header in ("From", "To", "Subject", "Date", "Message-ID", "List-Id", "List-Unsubscribe"):
        assert message[header], header
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Unsubscribe"].startswith("<https://digest.example.org/u/")
    assert message.get_content_type() == "multipart/alternative"
    assert message.get_body(preferencelist=("plain",)) is not None
    assert message.get_body(preferencelist=("html",)) is not None


def test_a_subscriber_with_nothing_relevant_gets_no_padded_digest(settings, day, smtp):
    run_tick(settings, now=NOW, fetch=False, sessions=day)
    with db.session_scope(day) as session:
        carol = subscriber_store.get_by_email(session, "carol@example.org")
        delivery = session.query(Delivery).filter_by(subscriber_id=carol.id).one()
        assert all(item.get("near_miss") for item in delivery.items)


def test_nobody_is_due_before_their_send_time(settings, day, smtp):
    report = run_tick(settings, now=NOW.replace(hour=7), fetch=False, sessions=day)
    assert report.due == 0 and smtp.received == []


def test_an_unreachable_smtp_server_fails_the_tick_and_keeps_deliveries_queued(settings, day, smtp):
    smtp.stop()
    with pytest.raises(TickFailed, match="SMTP"):
        run_tick(settings, now=NOW, fetch=False, sessions=day)
    with db.session_scope(day) as session:
        states = {d.state for d in session.query(Delivery)}
    assert states == {"queued"}
    smtp.start()
    report = run_tick(settings, now=NOW, fetch=False, sessions=day)
    assert report.sent.sent == 3


def test_the_scheduler_backs_off_while_the_smtp_server_is_down(settings, day, smtp):
    from digest.pipeline import Ticker

    smtp.stop()
    ticker = Ticker(settings, clock=lambda: NOW)
    ran = [ticker() for _ in range(5)]
    assert ran == [False] * 5
    assert ticker.failures == 2  # tick, skip 1, tick, skip 3: only two attempts in five ticks
    smtp.start()
    while ticker.skip:
        ticker()
    assert ticker() is True and ticker.failures == 0


def test_send_dry_run_renders_the_queue_into_the_outbox_and_sends_nothing(settings, day, smtp):
    from digest.delivery import dry_run
    from digest.pipeline import TickReport, select_and_score

    with db.session_scope(day) as session:
        select_and_score(settings, session, TickReport(run_id=0, now=NOW))
    with db.session_scope(day) as session:
        ids = [d.id for d in session.query(Delivery)]
    paths = dry_run(settings, ids, sessions=day)
    assert len(paths) == 3 and all(p.exists() for p in paths)
    assert all(p.with_suffix(".html").exists() for p in paths)
    assert smtp.received == []
    with db.session_scope(day) as session:
        assert {d.state for d in session.query(Delivery)} == {"queued"}


@pytest.mark.slow
def test_a_large_run_sends_from_several_processes_exactly_once(settings, day, smtp, monkeypatch):
    from digest import delivery

    monkeypatch.setattr(delivery, "PARALLEL_MIN", 1)
    parallel = settings.model_copy(update={"send_processes": 2})
    report = run_tick(parallel, now=NOW, fetch=False, sessions=day)
    assert report.sent.sent == 3
    recipients = sorted(r for m in smtp.received for r in m.recipients)
    assert recipients == ["alice@example.org", "bob@example.org", "carol@example.org"]
