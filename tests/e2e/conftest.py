"""Browser tests: Debian's chromium driven by Playwright, against the app on a real server."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from digest.config import Settings, load_settings
from digest.outbox import free_port
from digest.web import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class LiveServer:
    """The app behind a real HTTP server in a thread."""

    url: str
    app: Flask
    settings: Settings


@pytest.fixture
def browser() -> Iterator[object]:
    """A headless chromium; a missing browser skips, or fails when DIGEST_REQUIRE_BROWSER=1."""
    if not CHROMIUM.exists():
        if os.environ.get("DIGEST_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def live(settings: Settings, engine) -> Iterator[LiveServer]:
    """Serve the app on a free port; links in emails point at it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    live_settings = load_settings(**{**settings.model_dump(), "base_url": url})
    app = create_app(live_settings, engine=engine)
    server: BaseWSGIServer = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(url, app, live_settings)
    server.shutdown()
    thread.join(timeout=5)
    app.extensions["digest"].mail.flush(timeout=10)
