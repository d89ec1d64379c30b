"""Fixtures and helpers shared by the web tests: settings -> db -> app -> client, and mail."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from digest import db
from digest.outbox import OutboxServer
from digest.sources import PaperIn
from digest.store import papers as paper_store
from digest.store import subscribers as store
from digest.web import create_app

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
LINK = re.compile(r"https://digest\.example\.org(/\S+)")
NONCE = re.compile(r'(nonce|name="csrf_token" value)="[^"]+"')


@pytest.fixture
def app(settings, engine) -> Iterator[Flask]:
    """The app on the test database; queued mail is drained before the test ends."""
    app = create_app(settings, engine=engine)
    yield app
    app.extensions["digest"].mail.flush(timeout=10)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf(client: FlaskClient, path: str = "/") -> str:
    """The CSRF token of the form on `path` (the session cookie now holds its twin)."""
    page = client.get(path).get_data(as_text=True)
    match = CSRF.search(page)
    assert match, f"no form on {path}"
    return match.group(1)


def subscribe(client: FlaskClient, email: str, topics: str = "", **extra: str):
    """Post the landing page's form like a browser."""
    data = {"csrf_token": csrf(client), "email": email, "topics": topics, **extra}
    return client.post("/subscribe", data=data)


def same_page(a: str, b: str) -> bool:
    """Whether two pages are the same but for their per-response nonce and CSRF token."""
    return NONCE.sub("", a) == NONCE.sub("", b)


def mails(app: Flask, smtp: OutboxServer) -> list:
    """Wait for the background sender, then return what the SMTP server received."""
    assert app.extensions["digest"].mail.flush(timeout=10)
    return list(smtp.received)


def link_in(message, prefix: str) -> str:
    """The path of the first link in the email's text part that starts with `prefix`."""
    text = message.get_body(preferencelist=("plain",)).get_content()
    paths = [path for path in LINK.findall(text) if path.startswith(prefix)]
    assert paths, f"no {prefix} link in: {text}"
    return paths[0]


def add_subscriber(app: Flask, email: str = "alice@example.org", **kw):
    """A confirmed subscriber straight in the store, and its links."""
    state = app.extensions["digest"]
    with db.session_scope(state.sessions) as session:
        sub = store.create_subscriber(
            session, email, settings=state.settings, now=datetime.now(UTC), confirmed=True, **kw
        )
    return sub


def token(app: Flask, purpose: str, sub, **extra) -> str:
    return app.extensions["digest"].tokens.make(purpose, sub.id, sub.token_version, **extra)


PAPERS = [
    ("2611.00001", "Diffusion transformers for video generation", "We scale diffusion models."),
    ("2611.00002", "Graph neural networks for molecules", "Message passing on molecular graphs."),
    ("2611.00003", "Low-rank adaptation of language models", "LoRA fine-tunes large models."),
    ("2611.00004", "Protein folding with diffusion", "A diffusion model for protein structure."),
    ("2611.00005", "Retrieval augmented generation at scale", "Retrieval helps language models."),
]


def add_papers(app: Flask, now: datetime | None = None) -> None:
    """A few recent papers for previews and digests."""
    now = now or datetime.now(UTC) - timedelta(hours=1)
    rows = [
        PaperIn(
            id=pid,
            title=title,
            abstract=abstract,
            source="test",
            authors=["Ada Lovelace", "Alan Turing"],
            categories=["cs.LG"],
            abs_url=f"https://arxiv.org/abs/{pid}",
        )
        for pid, title, abstract in PAPERS
    ]
    with db.session_scope(app.extensions["digest"].sessions) as session:
        paper_store.upsert_papers(session, rows, now)
