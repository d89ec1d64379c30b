"""What every request needs: settings, sessions, signed links, the mail queue; and link checks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.exceptions import Gone, NotFound

from digest import db
from digest.config import Settings
from digest.models import Subscriber
from digest.ranking.semantic import load_embedder
from digest.store.subscribers import get_subscriber
from digest.tokens import BadToken, Claims, ExpiredToken, Links, Tokens
from digest.web.mailqueue import MailQueue
from digest.web.preview import PreviewCache

EXPIRED = "This link has expired. Ask for a new one and use it within a few days."
INVALID = "This link is not valid. Please use the most recent email we sent you."
REVOKED = "This link no longer works: a newer email replaced it, or the subscription was removed."


@dataclass
class WebState:
    """The app's long-lived parts, made once by the app factory."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    tokens: Tokens
    links: Links
    mail: MailQueue
    previews: PreviewCache
    dev: bool = False


def make_state(settings: Settings, engine: Engine | None = None, dev: bool = False) -> WebState:
    """Build the state from the settings (the engine may be shared with the caller)."""
    engine = engine or db.make_engine(settings.database_url)
    old = [key.get_secret_value() for key in settings.old_secret_keys]
    tokens = Tokens(settings.secret_key.get_secret_value(), old)
    links = Links(settings.base_url, tokens)
    sessions = db.make_sessionmaker(engine)
    mail = MailQueue(settings)
    previews = PreviewCache(sessions, load_embedder(settings))
    return WebState(settings, engine, sessions, tokens, links, mail, previews, dev)


def state() -> WebState:
    """The state of the running app."""
    return current_app.extensions["digest"]


@contextmanager
def session_scope() -> Iterator[Session]:
    """One session per unit of work in a request; commits on success."""
    with db.session_scope(state().sessions) as session:
        yield session


def now() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)


def local(url: str) -> str:
    """Our own absolute URL as a path, so links and redirects stay on this site."""
    base = state().links.base
    return url[len(base) :] or "/" if url.startswith(base) else "/"


def read_token(purposes: tuple[str, ...], token: str) -> Claims:
    """Verify a token signed for one of `purposes`; 404 when forged, 410 when expired."""
    expired = False
    for purpose in purposes:
        try:
            return state().tokens.read(purpose, token)
        except ExpiredToken:
            expired = True
        except BadToken:
            continue
    if expired:
        raise Gone(EXPIRED)
    raise NotFound(INVALID)


def subscriber_from(session: Session, purposes: tuple[str, ...], token: str) -> Subscriber:
    """The subscriber a link was issued to, if the link is genuine and not revoked."""
    claims = read_token(purposes, token)
    sub = get_subscriber(session, claims.subscriber_id)
    if sub is None or sub.token_version != claims.version:
        raise Gone(REVOKED)
    return sub
