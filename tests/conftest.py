"""One fixture chain: settings -> db -> (app -> client), plus a real SMTP server.

Every test that takes `settings` runs against SQLite, and against PostgreSQL too when
DIGEST_TEST_POSTGRES_URL is set (CI sets it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from digest import db
from digest.config import Settings, load_settings
from digest.outbox import OutboxServer

DATA = Path(__file__).parent / "data"
POSTGRES_URL = os.environ.get("DIGEST_TEST_POSTGRES_URL")
BACKENDS = (
    ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)] if POSTGRES_URL else ["sqlite"]
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests see only the settings they build, never the developer's environment or config."""
    for key in list(os.environ):
        if key.startswith("DIGEST_") and key != "DIGEST_TEST_POSTGRES_URL":
            monkeypatch.delenv(key)
    monkeypatch.setenv("DIGEST_SEMANTIC", "false")  # embeddings are tested in test_semantic.py
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True)
def _close_shared_engines() -> Iterator[None]:
    """Engines the code under test opened through db.sessions_for close with the test."""
    yield
    db.dispose_all()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of each backend under test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'digest.db'}"
        return
    assert POSTGRES_URL
    engine = db.make_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    yield POSTGRES_URL


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[OutboxServer]:
    """A real aiosmtpd server on a free port; `smtp.received` lists what it got."""
    with OutboxServer(tmp_path / "smtp-outbox") as server:
        yield server


@pytest.fixture
def settings(database_url: str, smtp: OutboxServer, tmp_path: Path) -> Settings:
    return load_settings(
        database_url=database_url,
        smtp_host=smtp.host,
        smtp_port=smtp.port,
        outbox_dir=tmp_path / "outbox",
        base_url="https://digest.example.org",
        secret_key="test-secret-key",
        mail_from="digest <digest@example.org>",
        sources_file=tmp_path / "sources.toml",
    )


@pytest.fixture
def engine(settings: Settings):
    engine = db.make_engine(settings.database_url)
    db.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine) -> sessionmaker[Session]:
    return db.make_sessionmaker(engine)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with db.session_scope(sessions) as session:
        yield session
