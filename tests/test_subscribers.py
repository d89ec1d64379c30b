"""The subscriber store: sign-up, confirmation, settings, interests, feedback, export, deletion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from digest.cli import cli
from digest.emails import InvalidEmail, normalize_email
from digest.store import subscribers as store

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def add(session, settings, email="alice@example.org", **kw):
    return store.create_subscriber(session, email, settings=settings, now=NOW, **kw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Alice@Example.ORG ", "alice@example.org"),
        ("ü@exämple.de", "ü@exämple.de"),
        ("用户@例子.广告", "用户@例子.广告"),
    ],
)
def test_addresses_are_normalized(raw, expected):
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "enter your email"),
        ("no-at-sign", "@-sign"),
        ("a@b.org\r\nBcc: x@y.org", "line breaks"),
        ("a" * 250 + "@example.org", "too long"),
    ],
)
def test_bad_addresses_are_refused_with_a_clear_message(raw, message):
    with pytest.raises(InvalidEmail, match=message):
        normalize_email(raw)


def test_a_new_subscriber_is_pending_with_the_configured_defaults(session, settings):
    sub = add(session, settings, keywords=["diffusion", "Diffusion", " LoRA "])
    assert (sub.status, sub.timezone, sub.send_time) == ("pending", "UTC", "07:00")
    assert store.interests_by_kind(sub)["keyword"] == ["diffusion", "LoRA"]


def test_an_existing_address_is_returned_unchanged(session, settings):
    first = add(session, settings, keywords=["diffusion"])
    again = add(session, settings, email="ALICE@example.org", keywords=["cats"], confirmed=True)
    assert again.id == first.id and again.status == "pending"
    assert store.interests_by_kind(again)["keyword"] == ["diffusion"]


def test_confirm_unsubscribe_and_resubscribe_are_idempotent(session, settings):
    sub = add(session, settings)
    store.confirm(session, sub, NOW)
    store.confirm(session, sub, NOW + timedelta(days=1))
    assert sub.status == "active" and sub.confirmed_at == NOW
    store.unsubscribe(session, sub, NOW)
    store.unsubscribe(session, sub, NOW + timedelta(hours=1))
    assert sub.status == "unsubscribed" and sub.unsubscribed_at == NOW
    store.resubscribe(session, sub, NOW)
    assert sub.status == "active" and sub.unsubscribed_at is None


def test_a_flood_of_requests_sends_one_confirmation_per_window(session, settings):
    sub = add(session, settings)
    assert store.claim_confirmation(sub, NOW, created=True)
    sent = [
        store.claim_confirmation(sub, NOW + timedelta(seconds=s), created=False) for s in range(50)
    ]
    assert not any(sent)
    assert store.claim_confirmation(sub, NOW + timedelta(minutes=11), created=False)


def test_settings_are_validated_before_anything_changes(session, settings):
    sub = add(session, settings)
    with pytest.raises(store.SubscriberError, match="time zone") as info:
        store.update_settings(session, sub, send_time="06:00", timezone="Mars/Olympus")
    assert info.value.field == "timezone" and sub.send_time == "07:00"
    store.update_settings(session, sub, cadence="weekly", weekday="fri", max_papers=5)
    assert (sub.cadence, sub.weekday, sub.max_papers) == ("weekly", 4, 5)


@pytest.mark.parametrize(
    "fields",
    [
        {"send_time": "25:00"},
        {"cadence": "hourly"},
        {"weekday": 7},
        {"max_papers": 0},
        {"max_papers": 51},
        {"trending_weight": 1.5},
        {"colour": "blue"},
    ],
)
def test_out_of_range_settings_are_refused(session, settings, fields):
    with pytest.raises(store.SubscriberError):
        store.update_settings(session, add(session, settings), **fields)


def test_a_ten_thousand_keyword_profile_is_refused(session, settings):
    sub = add(session, settings)
    with pytest.raises(store.SubscriberError, match="At most 200 keywords"):
        store.set_interests(session, sub, "keyword", [f"topic {i}" for i in range(10_000)])
    with pytest.raises(store.SubscriberError, match="at most 100 characters"):
        store.set_interests(session, sub, "author", ["x" * 101])


def test_set_interests_replaces_one_kind_only(session, settings):
    sub = add(session, settings, keywords=["a", "b"], categories=["cs.LG"])
    store.set_interests(session, sub, "keyword", ["b", "c"])
    assert store.interests_by_kind(sub) == {
        "keyword": ["b", "c"],
        "category": ["cs.LG"],
        "author": [],
        "exclude": [],
    }


def test_feedback_can_be_changed_and_undone(session, settings):
    alice, bob = add(session, settings), add(session, settings, email="bob@example.org")
    store.record_feedback(session, alice, "2403.00001", 1, NOW)
    store.record_feedback(session, alice, "2403.00002", 1, NOW)
    store.record_feedback(session, alice, "2403.00002", -1, NOW)
    store.record_feedback(session, bob, "2403.00003", -1, NOW)
    store.record_feedback(session, bob, "2403.00003", 0, NOW)
    assert store.feedback_of(session, [alice.id, bob.id]) == {
        alice.id: (["2403.00001"], ["2403.00002"]),
        bob.id: ([], []),
    }


def test_seed_papers_accept_ids_and_links(session, settings):
    sub = add(session, settings)
    found = store.seed_papers(
        session,
        sub,
        ["https://arxiv.org/abs/2401.12345v2", "arXiv:2402.00001", "nonsense"],
        NOW,
    )
    assert found == ["2401.12345", "2402.00001"]
    assert store.feedback_of(session, [sub.id])[sub.id][0] == found


def test_export_holds_everything_and_delete_leaves_only_a_hash(session, settings):
    sub = add(session, settings, keywords=["diffusion"], confirmed=True)
    store.record_feedback(session, sub, "2403.00001", 1, NOW)
    exported = store.export_subscriber(session, sub)
    assert exported["email"] == "alice@example.org"
    assert exported["interests"]["keyword"] == ["diffusion"]
    assert exported["feedback"]["liked"] == ["2403.00001"]
    store.delete_subscriber(session, sub, NOW)
    assert store.get_by_email(session, "alice@example.org") is None
    assert store.is_suppressed(session, "Alice@example.org")
    assert store.feedback_of(session, [sub.id]) == {sub.id: ([], [])}
    with pytest.raises(store.Suppressed):
        add(session, settings)


def test_cli_adds_lists_exports_and_deletes(settings, engine):
    runner = CliRunner()
    env = {"DIGEST_DATABASE_URL": settings.database_url}
    args = ["subscribers", "add", "carol@example.org", "--keywords", "graphs, GNN"]
    result = runner.invoke(cli, [*args, "--timezone", "Asia/Tokyo", "--confirmed"], env=env)
    assert result.exit_code == 0, result.output
    listed = runner.invoke(cli, ["subscribers", "list", "--format", "jsonl"], env=env)
    assert '"carol@example.org"' in listed.output and '"Asia/Tokyo"' in listed.output
    exported = runner.invoke(cli, ["subscribers", "export", "carol@example.org"], env=env)
    assert '"GNN"' in exported.output
    assert (
        runner.invoke(cli, ["subscribers", "delete", "carol@example.org"], env=env).exit_code == 0
    )
    missing = runner.invoke(cli, ["subscribers", "export", "carol@example.org"], env=env)
    assert missing.exit_code != 0 and "no subscriber" in missing.output


def test_an_unsubscribed_address_asking_again_gets_a_confirmation(session, settings):
    sub = add(session, settings, confirmed=True)
    store.unsubscribe(session, sub, NOW)
    assert store.claim_confirmation(sub, NOW + timedelta(days=1), created=False)
    assert sub.status == "pending"
    assert not store.claim_confirmation(sub, NOW + timedelta(days=1, seconds=5), created=False)
    store.confirm(session, sub, NOW + timedelta(days=2))
    assert sub.status == "active" and not store.claim_confirmation(sub, NOW, created=False)
