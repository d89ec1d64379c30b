"""The preview cache: fitted once per period, refitted in the background as the old one serves."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import test_web_support as web

from digest import db
from digest.ranking import Profile
from digest.sources import PaperIn
from digest.store import papers as paper_store
from digest.web.preview import REFIT_SECONDS, PreviewCache

app = web.app  # fixture
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PROFILE = Profile(id="p", keywords=["protein folding"])


def test_a_stale_pool_serves_while_a_fresh_one_is_fitted(app):
    sessions = app.extensions["digest"].sessions
    web.add_papers(app, NOW - timedelta(hours=1))
    cache = PreviewCache(sessions)
    with sessions() as session:
        first, ranked = cache.rank(session, PROFILE, NOW)
        assert len(first.papers) == 5 and ranked[0].id == "2611.00004"
        with db.session_scope(sessions) as writer:
            paper = PaperIn(id="2611.00009", title="Protein folding at scale", source="t")
            paper_store.upsert_papers(writer, [paper], NOW)
        later = NOW + timedelta(seconds=REFIT_SECONDS + 1)
        assert cache.rank(session, PROFILE, later)[0] is first
        deadline = time.monotonic() + 10
        while cache.rank(session, PROFILE, later)[0] is first:
            assert time.monotonic() < deadline, "the pool was never refitted"
            time.sleep(0.05)
        assert len(cache.rank(session, PROFILE, later)[0].papers) == 6
