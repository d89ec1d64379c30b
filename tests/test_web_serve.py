"""`digest serve` runs the app on gunicorn; dev mode adds the local SMTP server and its inbox."""

from __future__ import annotations

import os
import smtplib
import subprocess
import sys
import time
import urllib.request
from email.message import EmailMessage

import pytest

from digest.outbox import free_port, write_outbox
from digest.web import create_app
from digest.web.server import gunicorn_options


def wait_for(url: str, seconds: float = 30) -> bytes:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                return answer.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def smtp_answers(port: int, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=2) as client:
                return client.noop()[0] == 250
        except OSError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.2)


@pytest.mark.slow
def test_serve_answers_healthz_on_gunicorn_and_runs_the_dev_smtp_server(settings, engine):
    port, smtp_port = free_port(), free_port()
    env = {
        **os.environ,
        "DIGEST_DATABASE_URL": settings.database_url,
        "DIGEST_SMTP_PORT": str(smtp_port),
        "DIGEST_OUTBOX_DIR": str(settings.outbox_dir),
    }
    command = [sys.executable, "-m", "digest", "serve", "--port", str(port), "--dev"]
    server = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert b'"ok"' in wait_for(f"http://127.0.0.1:{port}/healthz")
        assert b"Dev inbox" in wait_for(f"http://127.0.0.1:{port}/dev/inbox")
        assert smtp_answers(smtp_port)
        assert b"digest" in wait_for(f"http://127.0.0.1:{port}/")
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=20)
    assert "gunicorn" in errors and "Traceback" not in errors


def test_sqlite_is_served_by_one_process(settings):
    sqlite = settings.model_copy(update={"database_url": "sqlite:///var/digest.db"})
    assert gunicorn_options(sqlite, "127.0.0.1", 8000)["workers"] == 1
    postgres = settings.model_copy(update={"database_url": "postgresql+psycopg://db/digest"})
    assert gunicorn_options(postgres, "127.0.0.1", 8000)["workers"] == settings.web_workers


def test_the_dev_inbox_lists_and_shows_messages(settings, engine):
    message = EmailMessage()
    message["Subject"], message["To"], message["Message-ID"] = (
        "Hello <b>",
        "a@example.org",
        "<m1@x>",
    )
    message.set_content("text")
    message.add_alternative("<p>html</p>", subtype="html")
    write_outbox(settings.outbox_dir, message)
    client = create_app(settings, engine=engine, dev=True).test_client()
    page = client.get("/dev/inbox").get_data(as_text=True)
    assert "Hello &lt;b&gt;" in page and "m1_x.html" in page
    with client.get("/dev/inbox/m1_x.html") as shown:
        assert shown.get_data(as_text=True) == "<p>html</p>\n"
    assert client.get("/dev/inbox/..%2Fdigest.db").status_code == 404
