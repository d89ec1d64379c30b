"""The links in a digest: one-click unsubscribe, feedback, view in browser; account; health."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import test_web_support as web
import time_machine
from pydantic import SecretStr

from digest import db
from digest.models import Delivery
from digest.store import subscribers as store
from digest.web import create_app

app, client = web.app, web.client  # fixtures
EDITION = date(2026, 11, 20)


def status_of(app, sub) -> str | None:
    with db.session_scope(app.extensions["digest"].sessions) as session:
        fresh = store.get_subscriber(session, sub.id)
        return fresh.status if fresh else None


def test_unsubscribe_get_only_asks(app, client):
    sub = web.add_subscriber(app)
    page = client.get(f"/u/{web.token(app, 'unsubscribe', sub)}").get_data(as_text=True)
    assert "Unsubscribe?" in page and status_of(app, sub) == "active"


def test_one_click_post_needs_no_cookie_no_csrf_and_is_idempotent(app):
    sub = web.add_subscriber(app)
    path = f"/u/{web.token(app, 'unsubscribe', sub)}"
    for _ in range(2):
        fresh_client = app.test_client()  # no cookie at all, as a mail provider posts
        answer = fresh_client.post(path, data={"List-Unsubscribe": "One-Click"})
        assert answer.status_code == 200 and "Set-Cookie" not in answer.headers
        assert "You are unsubscribed" in answer.get_data(as_text=True)
    assert status_of(app, sub) == "unsubscribed"


def test_resubscribing_from_the_same_link(app, client):
    sub = web.add_subscriber(app)
    path = f"/u/{web.token(app, 'unsubscribe', sub)}"
    client.post(path)
    page = client.get(path).get_data(as_text=True)
    assert "Resubscribe" in page
    answer = client.post(f"{path}/resubscribe", data={"csrf_token": web.csrf(client, path)})
    assert answer.status_code == 200 and "Welcome back" in answer.get_data(as_text=True)
    assert status_of(app, sub) == "active"


@pytest.mark.parametrize("direction", ["up", "down"])
def test_feedback_asks_then_records_and_can_be_undone(app, client, direction):
    web.add_papers(app)
    sub = web.add_subscriber(app)
    path = f"/f/{web.token(app, 'feedback', sub)}/2611.00003/{direction}"
    page = client.get(path).get_data(as_text=True)
    assert "Low-rank adaptation of language models" in page
    assert store_feedback(app, sub) == ([], [])
    done = client.post(path, data={"csrf_token": web.csrf(client, path)})
    assert done.status_code == 200 and "Undo" in done.get_data(as_text=True)
    expected = (["2611.00003"], []) if direction == "up" else ([], ["2611.00003"])
    assert store_feedback(app, sub) == expected
    undo = path.rsplit("/", 1)[0] + "/undo"
    client.post(undo, data={"csrf_token": web.csrf(client, path)})
    assert store_feedback(app, sub) == ([], [])


def store_feedback(app, sub):
    with db.session_scope(app.extensions["digest"].sessions) as session:
        return store.feedback_of(session, [sub.id])[sub.id]


def test_feedback_paths_accept_old_style_ids(app, client):
    sub = web.add_subscriber(app)
    path = f"/f/{web.token(app, 'feedback', sub)}/hep-th/9901001/down"
    client.post(path, data={"csrf_token": web.csrf(client, path)})
    assert store_feedback(app, sub) == ([], ["hep-th/9901001"])


def test_the_digest_opens_in_the_browser(app, client):
    web.add_papers(app)
    sub = web.add_subscriber(app)
    items = [{"id": "2611.00001", "score": 0.9, "reasons": ["matches: diffusion"]}]
    now = datetime.now(UTC)
    with db.session_scope(app.extensions["digest"].sessions) as session:
        session.add(
            Delivery(
                subscriber_id=sub.id,
                edition=EDITION,
                state="sent",
                items=items,
                considered=5,
                created_at=now,
                updated_at=now,
            )
        )
    answer = client.get(f"/d/{web.token(app, 'view', sub, e=EDITION.isoformat())}")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Diffusion transformers for video generation" in page
    assert "script-src" not in answer.headers["Content-Security-Policy"]


def test_a_digest_that_was_never_made_is_a_clear_404(app, client):
    sub = web.add_subscriber(app)
    answer = client.get(f"/d/{web.token(app, 'view', sub, e='2020-01-01')}")
    assert answer.status_code == 404 and "no longer available" in answer.get_data(as_text=True)


def test_export_gives_everything_as_json(app, client):
    sub = web.add_subscriber(app, keywords=["diffusion"])
    answer = client.get(f"/account/{web.token(app, 'account', sub)}/export")
    assert answer.status_code == 200 and "attachment" in answer.headers["Content-Disposition"]
    data = answer.get_json()
    assert data["email"] == "alice@example.org" and data["interests"]["keyword"] == ["diffusion"]


def test_delete_needs_confirmation_then_forgets_all_but_a_hash(app, client):
    sub = web.add_subscriber(app)
    path = f"/account/{web.token(app, 'account', sub)}"
    refused = client.post(f"{path}/delete", data={"csrf_token": web.csrf(client, path)})
    assert refused.status_code == 400 and status_of(app, sub) == "active"
    data = {"csrf_token": web.csrf(client, path), "confirm": "yes"}
    answer = client.post(f"{path}/delete", data=data)
    assert answer.status_code == 200 and "deleted" in answer.get_data(as_text=True)
    assert status_of(app, sub) is None
    with db.session_scope(app.extensions["digest"].sessions) as session:
        assert store.is_suppressed(session, "alice@example.org")
    assert client.get(path).status_code == 410


def test_healthz_answers_when_the_database_does(client):
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.get_json() == {"status": "ok"}


def test_every_page_carries_security_headers(client):
    headers = client.get("/").headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Strict-Transport-Security"] == "max-age=31536000"  # base_url is https


@pytest.mark.parametrize(
    ("path", "code"),
    [("/no/such/page", 404), ("/u/garbage", 404), ("/f/garbage/2611.00001/up", 404)],
)
def test_errors_are_friendly_pages(client, path, code):
    answer = client.get(path)
    page = answer.get_data(as_text=True)
    assert answer.status_code == code and "<h1>" in page and "Traceback" not in page


def test_an_unexpected_error_is_a_friendly_500(app, caplog):
    def broken() -> str:
        raise RuntimeError("a bug")

    app.add_url_rule("/broken", view_func=broken)
    answer = app.test_client().get("/broken")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 500 and "Something went wrong" in page and "a bug" not in page
    assert "unhandled error on GET /broken" in caplog.text


def test_the_dev_inbox_exists_only_in_dev_mode(client):
    assert client.get("/dev/inbox").status_code == 404


def test_healthz_is_503_when_the_database_is_unreachable(settings, tmp_path):
    broken = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path}"})  # a directory
    answer = create_app(broken).test_client().get("/healthz")
    assert answer.status_code == 503 and answer.get_json()["status"] == "unavailable"


def test_an_oversized_form_is_a_friendly_413(client):
    answer = client.post("/subscribe", data={"topics": "x" * 300_000})
    assert answer.status_code == 413 and "Too much at once" in answer.get_data(as_text=True)


@pytest.mark.parametrize(
    ("purpose", "path"),
    [("unsubscribe", "/account/{}"), ("feedback", "/d/{}"), ("view", "/u/{}")],
)
def test_a_token_for_another_purpose_is_refused(app, client, purpose, path):
    sub = web.add_subscriber(app)
    answer = client.get(path.format(web.token(app, purpose, sub, e=EDITION.isoformat())))
    assert answer.status_code == 404 and "not valid" in answer.get_data(as_text=True)


def test_an_expired_account_link_says_so(app, client):
    sub = web.add_subscriber(app)
    path = f"/account/{web.token(app, 'account', sub)}"
    with time_machine.travel(datetime.now(UTC) + timedelta(days=2)):
        answer = client.get(path)
    assert answer.status_code == 410 and "expired" in answer.get_data(as_text=True)


def test_links_signed_with_a_rotated_key_still_work(settings, engine):
    old = create_app(settings, engine=engine)
    sub = web.add_subscriber(old)
    path = f"/u/{web.token(old, 'unsubscribe', sub)}"
    rotated = settings.model_copy(
        update={"secret_key": SecretStr("new-key"), "old_secret_keys": [settings.secret_key]}
    )
    assert create_app(rotated, engine=engine).test_client().get(path).status_code == 200
    dropped = settings.model_copy(update={"secret_key": SecretStr("new-key")})
    assert create_app(dropped, engine=engine).test_client().get(path).status_code == 404
