"""Sign-up over HTTP: landing page, double opt-in by email, magic links, and bad input."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import test_web_support as web
import time_machine

from digest import db
from digest.outbox import OutboxServer, free_port
from digest.store import subscribers as store
from digest.web import create_app

app, client = web.app, web.client  # fixtures
csrf, link_in, mails, subscribe = web.csrf, web.link_in, web.mails, web.subscribe


def subscriber(app, email="alice@example.org"):
    with db.session_scope(app.extensions["digest"].sessions) as session:
        return store.get_by_email(session, email)


def test_landing_page_explains_and_has_the_form(client):
    page = client.get("/").get_data(as_text=True)
    assert "What a digest looks like" in page
    assert 'name="email"' in page and 'for="email"' in page
    assert "Intl.DateTimeFormat().resolvedOptions().timeZone" in page


def test_subscribing_queues_one_confirmation_and_confirming_activates(app, client, smtp):
    answer = subscribe(client, "Alice@Example.org", "diffusion, LoRA", timezone="Asia/Tokyo")
    assert answer.status_code == 200 and "Check your inbox" in answer.get_data(as_text=True)
    sub = subscriber(app)
    assert (sub.status, sub.timezone) == ("pending", "Asia/Tokyo")
    [mail] = mails(app, smtp)
    assert mail.recipients == ["alice@example.org"]
    path = link_in(mail.message, "/confirm/")
    assert "Yes, confirm" in client.get(path).get_data(as_text=True)
    assert subscriber(app).status == "pending"  # a GET (a mail scanner) confirms nothing
    done = client.post(path, data={"csrf_token": csrf(client, path)})
    assert done.status_code == 303 and done.headers["Location"].startswith("/preferences/")
    assert subscriber(app).status == "active"


def test_the_email_echoes_nothing_but_the_address(app, client, smtp):
    subscribe(client, "bob@example.org", "<script>alert(1)</script>, buy pills now")
    [mail] = mails(app, smtp)
    raw = mail.message.as_string()
    assert "alert(1)" not in raw and "pills" not in raw


def test_existing_and_suppressed_addresses_get_the_same_answer(app, client, smtp):
    fresh = subscribe(client, "new@example.org").get_data(as_text=True)
    subscribe(client, "active@example.org")
    with db.session_scope(app.extensions["digest"].sessions) as session:
        store.confirm(session, store.get_by_email(session, "active@example.org"), datetime.now(UTC))
        gone = store.create_subscriber(
            session,
            "gone@example.org",
            settings=app.extensions["digest"].settings,
            now=datetime.now(UTC),
        )
        store.delete_subscriber(session, gone, datetime.now(UTC))
    for address in ("active@example.org", "gone@example.org"):
        again = subscribe(client, address).get_data(as_text=True)
        assert web.same_page(again.replace(address, "X"), fresh.replace("new@example.org", "X"))
    assert sorted(m.recipients[0] for m in mails(app, smtp)) == [
        "active@example.org",
        "new@example.org",
    ]


def test_a_flood_for_one_address_sends_one_email(app, client, smtp):
    answers = [subscribe(client, "flood@example.org").status_code for _ in range(8)]
    assert answers[0] == 200 and set(answers) <= {200, 429}
    assert len(mails(app, smtp)) == 1


def limited_client(settings, engine, rate="10/hour"):
    limited = settings.model_copy(update={"subscribe_rate_limit": rate})
    return create_app(limited, engine=engine).test_client()


def test_the_per_ip_limit_answers_429_with_a_friendly_page(settings, engine):
    client = limited_client(settings, engine)
    answers = [subscribe(client, f"user{i}@example.org").status_code for i in range(12)]
    assert answers.count(429) == 2
    page = subscribe(client, "late@example.org").get_data(as_text=True)
    assert "Slow down" in page and "Traceback" not in page
    assert client.application.extensions["digest"].mail.flush(timeout=10)


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("not-an-address", "must have an @-sign"),
        ("a" * 300 + "@example.org", "too long"),
        ("eve@example.org\r\nBcc: all@example.org", "line breaks"),
        ("", "enter your email"),
    ],
)
def test_bad_addresses_get_a_message_next_to_the_field(app, client, smtp, address, message):
    answer = subscribe(client, address)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert 'id="email-error"' in page and message in page
    assert 'aria-describedby="email-error"' in page
    assert mails(app, smtp) == []


def test_an_internationalized_address_is_accepted(app, client, smtp):
    assert subscribe(client, "jörg@bücher.example").status_code == 200
    [mail] = mails(app, smtp)
    assert mail.recipients == ["jörg@bücher.example"]


def test_ten_thousand_topics_are_refused_with_a_limit(app, client, smtp):
    answer = subscribe(client, "many@example.org", ", ".join(f"t{i}" for i in range(10_000)))
    assert answer.status_code == 400 and "At most 200 keywords" in answer.get_data(as_text=True)
    assert subscriber(app, "many@example.org") is None


def test_html_typed_into_the_form_is_escaped(client):
    page = subscribe(client, "<b>x</b>", "<img src=x onerror=alert(1)>").get_data(as_text=True)
    assert "<img src=x" not in page and "&lt;img src=x" in page
    assert "<b>x</b>" not in page


def test_a_form_without_csrf_token_is_refused(client):
    answer = client.post("/subscribe", data={"email": "carol@example.org"})
    assert answer.status_code == 400 and "Reload the page" in answer.get_data(as_text=True)


def test_forged_and_wrong_purpose_confirm_links_are_refused(app, client, smtp):
    assert client.get("/confirm/forged-token").status_code == 404
    subscribe(client, "dave@example.org")
    [mail] = mails(app, smtp)
    confirm_token = link_in(mail.message, "/confirm/").rsplit("/", 1)[1]
    for path in (f"/u/{confirm_token}", f"/preferences/{confirm_token}"):
        answer = client.get(path)
        assert answer.status_code == 404 and "not valid" in answer.get_data(as_text=True)


def test_an_expired_confirm_link_says_so(app, client, smtp):
    subscribe(client, "erin@example.org")
    path = link_in(mails(app, smtp)[0].message, "/confirm/")
    with time_machine.travel(datetime.now(UTC) + timedelta(days=4)):
        answer = client.get(path)
    assert answer.status_code == 410 and "expired" in answer.get_data(as_text=True)


def test_manage_emails_a_magic_link_only_to_subscribers(app, client, smtp):
    subscribe(client, "frank@example.org")
    mails(app, smtp)
    data = {"csrf_token": csrf(client, "/manage"), "email": "frank@example.org"}
    known = client.post("/manage", data=data).get_data(as_text=True)
    data["email"] = "nobody@example.org"
    unknown = client.post("/manage", data=data).get_data(as_text=True)
    assert web.same_page(known.replace("frank", "X"), unknown.replace("nobody", "X"))
    received = mails(app, smtp)
    assert [m.recipients for m in received] == [["frank@example.org"], ["frank@example.org"]]
    path = link_in(received[1].message, "/preferences/")
    assert "Your preferences" in client.get(path).get_data(as_text=True)


def test_the_manage_form_is_rate_limited_per_ip_too(settings, engine):
    client = limited_client(settings, engine)
    data = {"csrf_token": csrf(client, "/manage")}
    answers = [
        client.post("/manage", data=data | {"email": f"u{i}@example.org"}).status_code
        for i in range(11)
    ]
    assert answers.count(429) == 1
    assert client.application.extensions["digest"].mail.flush(timeout=10)


def test_a_confirm_link_of_a_deleted_subscriber_no_longer_works(app, client, smtp):
    subscribe(client, "gina@example.org")
    path = link_in(mails(app, smtp)[0].message, "/confirm/")
    with db.session_scope(app.extensions["digest"].sessions) as session:
        gina = store.get_by_email(session, "gina@example.org")
        store.delete_subscriber(session, gina, datetime.now(UTC))
    answer = client.post(path, data={"csrf_token": csrf(client, "/")})
    assert answer.status_code == 410 and "no longer works" in answer.get_data(as_text=True)


def test_a_confirmation_waits_for_an_smtp_server_that_was_down(settings, engine):
    port = free_port()
    down = settings.model_copy(update={"smtp_port": port})
    app = create_app(down, engine=engine)
    app.extensions["digest"].mail.retry_seconds = 0.2
    client = app.test_client()
    assert subscribe(client, "hank@example.org").status_code == 200
    time.sleep(0.3)  # the first attempt finds nobody listening
    with OutboxServer(port=port) as late:
        assert app.extensions["digest"].mail.flush(timeout=10)
        assert [m.recipients for m in late.received] == [["hank@example.org"]]
