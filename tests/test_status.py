"""`digest status`: last runs, the pending queue and bounces, from the shared tables."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from rich.console import Console

from digest.models import Delivery, Run, SourceState, Subscriber
from digest.status import render_status

NOW = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)


def _render(session) -> str:
    out = io.StringIO()
    render_status(session, NOW, Console(file=out, width=200, color_system=None))
    return out.getvalue()


def _subscriber(session, email: str, status: str = "active") -> Subscriber:
    sub = Subscriber(email=email, status=status, created_at=NOW - timedelta(days=30))
    session.add(sub)
    session.flush()
    return sub


def _delivery(session, sub: Subscriber, state: str, **fields) -> None:
    at = fields.pop("at", NOW - timedelta(minutes=30))
    session.add(
        Delivery(
            subscriber_id=sub.id,
            edition=date(2025, 3, 14),
            state=state,
            created_at=at,
            updated_at=at,
            **fields,
        )
    )
    session.flush()


def test_an_empty_database_says_what_is_missing(session):
    text = _render(session)

    assert "Sources: none configured" in text
    assert "Runs: none yet" in text
    assert "Queue: empty" in text
    assert "Bounces: none recorded" in text


def test_last_runs_show_status_duration_counts_and_stage_times(session):
    started = NOW - timedelta(hours=2)
    session.add(
        Run(
            started_at=started,
            finished_at=started + timedelta(seconds=12.5),
            status="ok",
            counts={"due": 3, "sent": 2},
            timings={"send": 1.25},
        )
    )
    session.add(
        Run(
            started_at=NOW - timedelta(minutes=5),
            finished_at=NOW,
            status="failed",
            counts={},
            timings={},
            error="SMTP unavailable: connection refused",
        )
    )
    session.flush()

    text = _render(session)

    assert "2025-03-14 07:00" in text
    assert "12.5s" in text
    assert "due=3 sent=2" in text
    assert "send=1.25s" in text
    assert "failed: SMTP unavailable" in text
    assert text.index("failed: SMTP") < text.index("due=3")


def test_the_queue_groups_pending_deliveries_by_state(session):
    for name in ("alice", "bob"):
        _delivery(session, _subscriber(session, f"{name}@example.org"), "queued")
    _delivery(
        session,
        _subscriber(session, "carol@example.org"),
        "retry",
        next_attempt_at=NOW + timedelta(minutes=4),
        at=NOW - timedelta(hours=3),
    )
    _delivery(session, _subscriber(session, "dave@example.org"), "sent")

    text = _render(session)

    assert "Pending deliveries" in text
    assert "queued" in text and "retry" in text
    assert "2025-03-14 09:04" in text
    assert "3 h ago" in text
    assert "sent " not in text.split("Pending deliveries")[1].split("\n\n")[0]


def test_bounces_list_permanent_refusals_with_the_reply(session):
    bob = _subscriber(session, "bob@example.org", status="bounced")
    _delivery(
        session, bob, "failed", last_code=550, last_reply="5.1.1 <bob@example.org>: no such user"
    )
    _delivery(session, _subscriber(session, "carol@example.org"), "retry", last_code=451)

    text = _render(session)

    assert "1 addresses marked bounced" in text
    assert "bob@example.org" in text and "550" in text and "no such user" in text
    assert "carol@example.org" not in text


def _digest_status(config) -> subprocess.CompletedProcess[str]:
    """Run the real command line, as an operator (or a container health check) would."""
    args = [str(Path(sys.executable).parent / "digest"), "--config", str(config), "status"]
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


def test_the_status_command_prints_every_section(settings, engine, tmp_path):
    config = tmp_path / "digest.toml"
    config.write_text(f'database_url = "{settings.database_url}"\n')

    result = _digest_status(config)

    assert result.returncode == 0, result.stderr
    assert "Sources: none configured" in result.stdout
    assert "Runs: none yet" in result.stdout
    assert "Queue: empty" in result.stdout


def test_the_status_command_names_an_unreachable_database_in_one_line(tmp_path):
    config = tmp_path / "digest.toml"
    config.write_text('database_url = "postgresql+psycopg://nobody@127.0.0.1:1/none"\n')

    result = _digest_status(config)

    assert result.returncode == 1
    assert "cannot read the database" in result.stderr
    assert "Traceback" not in result.stderr


def test_sources_show_items_last_success_and_a_current_error(session):
    session.add(
        SourceState(
            name="arxiv-cs.LG",
            items_seen=120,
            last_ok_at=NOW - timedelta(hours=2),
            last_error="HTTP 503 Service Unavailable",
            last_error_at=NOW - timedelta(hours=5),
        )
    )
    session.add(
        SourceState(
            name="hf-daily",
            items_seen=0,
            last_ok_at=NOW - timedelta(days=3),
            last_error="timed out after 30 s",
            last_error_at=NOW - timedelta(minutes=10),
        )
    )
    session.flush()

    text = _render(session)

    assert "arxiv-cs.LG" in text and "120" in text and "2 h ago" in text
    assert "HTTP 503 Service Unavailable (since recovered)" in text
    assert "10 min ago: timed out after 30 s" in text
    assert "timed out after 30 s (since" not in text
