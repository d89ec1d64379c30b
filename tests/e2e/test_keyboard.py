"""The forms work from the keyboard alone, and errors are announced next to their field."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_subscribing_by_keyboard_with_a_bad_then_a_good_address(live, browser):
    page = browser.new_page()
    page.goto(live.url + "/")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.locator("#email").focus()
    page.keyboard.type("not-an-address")
    page.keyboard.press("Enter")
    error = page.locator("#email-error")
    error.wait_for()
    assert "@-sign" in error.inner_text() and error.get_attribute("role") == "alert"
    assert page.locator("#email").get_attribute("aria-invalid") == "true"
    page.locator("#email").fill("ivan@example.org")
    page.keyboard.press("Tab")
    page.keyboard.type("<b>graphs</b>")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Check your inbox").wait_for()
    assert "ivan@example.org" in page.content()
    page.close()
