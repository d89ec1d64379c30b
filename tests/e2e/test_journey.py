"""A subscriber's whole journey in a real browser, with real SMTP, a real tick and real links."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import test_web_support as web

from digest import db
from digest.store import subscribers as store

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

EMAIL = "alice@example.org"


def last_mail_to(live, smtp, address):
    assert live.app.extensions["digest"].mail.flush(timeout=10)
    return [m for m in smtp.received if address in m.recipients][-1]


def link(message, prefix):
    text = message.get_body(preferencelist=("plain",)).get_content()
    return next(url for url in re.findall(r"https?://\S+", text) if prefix in url)


def subscriber(live):
    with db.session_scope(live.app.extensions["digest"].sessions) as session:
        sub = store.get_by_email(session, EMAIL)
        return sub, store.interests_by_kind(sub), store.feedback_of(session, [sub.id])[sub.id]


def test_subscribe_confirm_tune_receive_react_unsubscribe(live, browser, smtp, tmp_path):
    from playwright.sync_api import expect

    web.add_papers(live.app)
    context = browser.new_context(
        timezone_id="Europe/Berlin", viewport={"width": 390, "height": 844}
    )
    page = context.new_page()

    page.goto(live.url + "/")
    page.screenshot(path=str(tmp_path / "subscribe.png"), full_page=True)
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("A few topics").fill("diffusion")
    page.get_by_role("button", name="Subscribe").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()
    assert subscriber(live)[0].timezone == "Europe/Berlin"

    page.goto(link(last_mail_to(live, smtp, EMAIL).message, "/confirm/"))
    page.get_by_role("button", name="Yes, confirm my subscription").click()
    page.get_by_role("heading", name="Your preferences").wait_for()
    assert subscriber(live)[0].status == "active"

    preview = page.locator("#preview-list li").first
    assert "diffusion" in preview.inner_text().lower()
    page.get_by_label("Topics and keywords").fill("graph neural networks, molecules")
    expect(page.locator("#preview-list li a").first).to_contain_text("Graph neural")
    page.screenshot(path=str(tmp_path / "preferences.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(tmp_path / "preferences-desktop.png"), full_page=True)
    page.get_by_role("button", name="Save preferences").click()
    page.get_by_text("Saved.").wait_for()
    assert subscriber(live)[1]["keyword"] == ["graph neural networks", "molecules"]

    from digest.pipeline import run_tick

    berlin = datetime.now(ZoneInfo("Europe/Berlin")) + timedelta(days=1)
    tick_at = berlin.replace(hour=9, minute=0).astimezone(UTC)
    sessions = live.app.extensions["digest"].sessions
    run_tick(live.settings, now=tick_at, fetch=False, sessions=sessions)
    digest_mail = last_mail_to(live, smtp, EMAIL)
    assert digest_mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    page.goto(digest_mail.path.with_suffix(".html").as_uri())
    assert "Graph neural networks for molecules" in page.content()
    page.get_by_role("link", name=re.compile("less like this", re.I)).first.click()
    page.get_by_role("button", name="Less like this").click()
    page.get_by_role("heading", name="Thanks, noted").wait_for()
    assert len(subscriber(live)[2][1]) == 1

    unsubscribe_url = digest_mail.message["List-Unsubscribe"].strip("<>")
    page.goto(unsubscribe_url)
    page.get_by_role("button", name="Unsubscribe").click()
    page.get_by_role("heading", name="You are unsubscribed").wait_for()
    assert subscriber(live)[0].status == "unsubscribed"
    one_click = context.request.post(unsubscribe_url, form={"List-Unsubscribe": "One-Click"})
    assert one_click.status == 200
    context.close()
    assert (tmp_path / "subscribe.png").stat().st_size > 0
