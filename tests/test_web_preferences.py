"""Preferences over HTTP: every field, validation next to the field, the live preview."""

from __future__ import annotations

import test_web_support as web

from digest import db
from digest.store import subscribers as store

app, client = web.app, web.client  # fixtures


def prefs_path(app, sub) -> str:
    return f"/preferences/{web.token(app, 'preferences', sub)}"


def form(client, path, **fields):
    data = {
        "csrf_token": web.csrf(client, path),
        "keywords": "",
        "authors": "",
        "exclude": "",
        "seeds": "",
        "cadence": "daily",
        "weekday": "0",
        "send_time": "07:00",
        "timezone": "UTC",
        "max_papers": "10",
        "trending_weight": "0.2",
        "category_mode": "boost",
    }
    return data | fields


def reload(app, sub):
    with db.session_scope(app.extensions["digest"].sessions) as session:
        fresh = store.get_subscriber(session, sub.id)
        return fresh, store.interests_by_kind(fresh), store.feedback_of(session, [sub.id])[sub.id]


def test_the_page_shows_current_settings_and_a_preview(app, client):
    web.add_papers(app)
    sub = web.add_subscriber(app, keywords=["diffusion"], categories=["cs.LG"])
    page = client.get(prefs_path(app, sub)).get_data(as_text=True)
    assert "alice@example.org" in page and ">diffusion</textarea>" in page
    assert 'value="cs.LG"\n        checked' in page or 'value="cs.LG" checked' in page
    assert "Your digest today would be" in page
    assert "Diffusion transformers for video generation" in page


def test_saving_changes_every_field(app, client):
    sub = web.add_subscriber(app)
    path = prefs_path(app, sub)
    data = form(
        client,
        path,
        keywords="graphs\nmolecules",
        authors="Ada Lovelace",
        exclude="survey",
        seeds="https://arxiv.org/abs/2611.00002v1",
        cadence="weekly",
        weekday="4",
        send_time="18:30",
        timezone="America/Chicago",
        max_papers="5",
        trending_weight="0.6",
        category_mode="filter",
    )
    data["categories"] = ["cs.LG", "q-bio.BM"]
    answer = client.post(path, data=data)
    assert answer.status_code == 303 and answer.headers["Location"] == f"{path}?saved=1"
    fresh, kinds, (liked, _) = reload(app, sub)
    assert kinds == {
        "keyword": ["graphs", "molecules"],
        "category": ["cs.LG", "q-bio.BM"],
        "author": ["Ada Lovelace"],
        "exclude": ["survey"],
    }
    assert (fresh.cadence, fresh.weekday, fresh.send_time) == ("weekly", 4, "18:30")
    assert (fresh.timezone, fresh.max_papers, fresh.trending_weight) == ("America/Chicago", 5, 0.6)
    assert liked == ["2611.00002"] and fresh.category_mode == "filter"
    assert "Saved." in client.get(answer.headers["Location"]).get_data(as_text=True)


def test_invalid_fields_are_named_and_nothing_is_saved(app, client):
    sub = web.add_subscriber(app, keywords=["kept"])
    path = prefs_path(app, sub)
    data = form(client, path, keywords="new", timezone="Mars/Olympus", max_papers="500")
    answer = client.post(path, data=data)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert 'id="timezone-error"' in page and "Europe/Berlin" in page
    assert 'id="max_papers-error"' in page and "from 1 to 50" in page
    assert reload(app, sub)[1]["keyword"] == ["kept"]


def test_a_ten_thousand_keyword_profile_is_refused(app, client):
    sub = web.add_subscriber(app)
    path = prefs_path(app, sub)
    keywords = "\n".join(f"topic {i}" for i in range(10_000))
    answer = client.post(path, data=form(client, path, keywords=keywords))
    assert answer.status_code == 400 and "At most 200 keywords" in answer.get_data(as_text=True)
    assert reload(app, sub)[1]["keyword"] == []


def test_html_in_keywords_is_escaped_everywhere(app, client):
    sub = web.add_subscriber(app, keywords=["<script>alert(1)</script>"])
    path = prefs_path(app, sub)
    page = client.get(path).get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    preview = client.get(f"{path}/preview", query_string={"keywords": "<b>bold</b>"})
    assert preview.status_code == 200 and preview.is_json


def test_the_preview_follows_unsaved_changes(app, client):
    web.add_papers(app)
    sub = web.add_subscriber(app)
    path = f"{prefs_path(app, sub)}/preview"
    proteins = client.get(path, query_string={"keywords": "protein folding"}).get_json()
    graphs = client.get(path, query_string={"keywords": "graph neural networks"}).get_json()
    assert proteins["considered"] == 5
    assert proteins["items"][0]["id"] == "2611.00004"
    assert graphs["items"][0]["id"] == "2611.00002"
    assert reload(app, sub)[1]["keyword"] == []


def test_a_bad_preview_field_answers_a_json_error(app, client):
    sub = web.add_subscriber(app)
    answer = client.get(f"{prefs_path(app, sub)}/preview", query_string={"max_papers": "x"})
    assert answer.status_code == 400 and "max_papers" in answer.get_json()["errors"]


def test_manage_links_open_the_preferences_too(app, client):
    sub = web.add_subscriber(app)
    assert client.get(f"/preferences/{web.token(app, 'manage', sub)}").status_code == 200


def test_revoked_links_stop_working(app, client):
    sub = web.add_subscriber(app)
    path = prefs_path(app, sub)
    with db.session_scope(app.extensions["digest"].sessions) as session:
        store.revoke_links(session, store.get_subscriber(session, sub.id))
    answer = client.get(path)
    assert answer.status_code == 410 and "no longer works" in answer.get_data(as_text=True)


def test_a_save_without_csrf_token_is_refused(app, client):
    sub = web.add_subscriber(app)
    answer = client.post(prefs_path(app, sub), data={"keywords": "x"})
    assert answer.status_code == 400 and "Reload the page" in answer.get_data(as_text=True)


def test_unknown_categories_are_refused(app, client):
    sub = web.add_subscriber(app)
    path = prefs_path(app, sub)
    data = form(client, path) | {"categories": ["cs.LG", "<i>cs.FAKE</i>"]}
    answer = client.post(path, data=data)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "Unknown arXiv categories: &lt;i&gt;cs.FAKE" in page


def test_time_zone_suggestions_are_a_cacheable_list(client):
    answer = client.get("/preferences/timezones.json")
    assert "Europe/Berlin" in answer.get_json() and "UTC" in answer.get_json()
    assert answer.headers["Cache-Control"] == "public, max-age=86400"
