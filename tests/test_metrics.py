"""/metrics: Prometheus text computed from the shared tables at scrape time."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from digest.metrics import metrics_response
from digest.models import Delivery, Run, SourceState, Subscriber

NOW = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)


def _subscriber(session, email: str, status: str = "active", bounces: int = 0) -> Subscriber:
    sub = Subscriber(email=email, status=status, bounce_count=bounces, created_at=NOW)
    session.add(sub)
    session.flush()
    return sub


def _delivery(session, sub: Subscriber, state: str, attempts: int = 1, code: int | None = None):
    session.add(
        Delivery(
            subscriber_id=sub.id,
            edition=date(2025, 3, 14),
            state=state,
            attempts=attempts,
            last_code=code,
            created_at=NOW,
            updated_at=NOW,
        )
    )
    session.flush()


def _samples(session, now: datetime = NOW) -> dict[tuple[str, tuple], float]:
    body, _ = metrics_response(session, now)
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


def test_deliveries_are_counted_by_state_with_sent_failed_and_retried_totals(session):
    alice, bob, carol, dave = (
        _subscriber(session, f"{name}@example.org") for name in ("alice", "bob", "carol", "dave")
    )
    _delivery(session, alice, "sent")
    _delivery(session, bob, "sent", attempts=3)
    _delivery(session, carol, "failed", code=550)
    _delivery(session, dave, "queued", attempts=0)

    samples = _samples(session)

    assert samples[("digest_deliveries", (("state", "sent"),))] == 2
    assert samples[("digest_deliveries", (("state", "queued"),))] == 1
    assert samples[("digest_deliveries", (("state", "retry"),))] == 0
    assert samples[("digest_digests_sent_total", ())] == 2
    assert samples[("digest_digests_failed_total", ())] == 1
    assert samples[("digest_digest_retries_total", ())] == 2


def test_bounces_and_subscribers_by_status_are_reported(session):
    _subscriber(session, "alice@example.org")
    _subscriber(session, "bob@example.org", status="bounced", bounces=2)
    _subscriber(session, "carol@example.org", status="pending")

    samples = _samples(session)

    assert samples[("digest_subscribers", (("status", "active"),))] == 1
    assert samples[("digest_subscribers", (("status", "bounced"),))] == 1
    assert samples[("digest_bounces_total", ())] == 2


def test_the_last_finished_run_gives_stage_durations_and_counts(session):
    started = NOW - timedelta(minutes=10)
    session.add(
        Run(
            started_at=started,
            finished_at=started + timedelta(seconds=42),
            status="ok",
            counts={"due": 3, "sent": 3, "waiting_for_sources": []},
            timings={"fetch": 30.5, "send": 11.0},
        )
    )
    session.add(Run(started_at=NOW, status="running", counts={}, timings={}))
    session.flush()

    samples = _samples(session)

    assert samples[("digest_last_run_stage_seconds", (("stage", "fetch"),))] == 30.5
    assert samples[("digest_last_run_count", (("name", "sent"),))] == 3
    assert samples[("digest_last_run_duration_seconds", ())] == pytest.approx(42)
    assert samples[("digest_last_run_timestamp_seconds", ())] == (started.timestamp() + 42)
    assert samples[("digest_runs", (("status", "running"),))] == 1
    assert samples[("digest_runs", (("status", "ok"),))] == 1


def test_sources_report_items_staleness_and_failure(session):
    session.add(
        SourceState(
            name="arxiv-cs.LG",
            items_seen=120,
            last_ok_at=NOW - timedelta(hours=1),
            last_new_at=NOW - timedelta(hours=26),
        )
    )
    session.add(
        SourceState(
            name="hf-daily",
            items_seen=0,
            last_ok_at=NOW - timedelta(hours=5),
            last_error="HTTP 503",
            last_error_at=NOW - timedelta(hours=1),
        )
    )
    session.flush()

    samples = _samples(session)

    assert samples[("digest_source_items_seen", (("source", "arxiv-cs.LG"),))] == 120
    assert samples[("digest_source_staleness_seconds", (("source", "arxiv-cs.LG"),))] == 26 * 3600
    assert samples[("digest_source_staleness_seconds", (("source", "hf-daily"),))] == 5 * 3600
    assert samples[("digest_source_failing", (("source", "arxiv-cs.LG"),))] == 0
    assert samples[("digest_source_failing", (("source", "hf-daily"),))] == 1


def test_an_empty_database_still_scrapes_in_prometheus_text_format(session):
    body, content_type = metrics_response(session)

    assert content_type.startswith("text/plain; version=0.0.4")
    assert b"# TYPE digest_deliveries gauge" in body
    assert b"digest_last_run_timestamp_seconds" not in body


def test_the_metrics_endpoint_serves_prometheus_text(settings, engine, session):
    from digest.web import create_app

    _delivery(session, _subscriber(session, "alice@example.org"), "sent")
    session.commit()

    response = create_app(settings, engine=engine).test_client().get("/metrics")

    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=0.0.4")
    assert b"digest_digests_sent_total 1.0" in response.data


def test_the_metrics_endpoint_answers_503_when_the_database_is_gone(settings, tmp_path):
    from digest.web import create_app

    broken = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path}/no/such.db"})
    app = create_app(broken)
    response = app.test_client().get("/metrics")
    app.extensions["digest"].engine.dispose()

    assert response.status_code == 503
    assert response.data == b"database unavailable\n"


def test_every_metric_is_documented_in_the_operator_guide(session):
    guide = (Path(__file__).resolve().parents[1] / "docs" / "operations.md").read_text()
    session.add(Run(started_at=NOW, finished_at=NOW, status="ok", counts={}, timings={}))
    session.add(SourceState(name="rss", items_seen=1, last_ok_at=NOW))
    session.flush()
    body, _ = metrics_response(session, NOW)

    names = {family.name for family in text_string_to_metric_families(body.decode())}

    documented = set(re.findall(r"^\| `(digest_\w+)` \|", guide, re.MULTILINE))
    assert {f"{n}_total" if f"{n}_total" in documented else n for n in names} == documented
