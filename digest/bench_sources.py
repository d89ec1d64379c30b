"""Bench of the sources area: parse + upsert a 2,000-item listing; a refetch that is a 304."""

from __future__ import annotations

import hashlib
import re
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from digest import db
from digest.bench import figure
from digest.config import load_settings
from digest.fetch import Fetcher
from digest.poll import fetch_source
from digest.sources.formats import parse
from digest.sources_config import Source
from digest.store import papers as paper_store

DEMO_LISTING = Path(__file__).parent / "demo_data" / "arxiv-cs.rss"
_ITEM = re.compile(rb"<item>.*?</item>", re.S)
_ID = re.compile(rb"2503\.\d{5}")
LISTING_DAY = datetime(2025, 3, 14, 11, 0, tzinfo=UTC)  # the demo day's listing is current


def listing(items: int) -> bytes:
    """A listing feed of `items` distinct papers, made from the bundled demo day."""
    data = DEMO_LISTING.read_bytes()
    templates = _ITEM.findall(data)
    head, tail = data[: data.index(b"<item>")], data[data.rindex(b"</item>") + 7 :]
    body = [
        _ID.sub(f"2503.{20000 + n:05d}".encode(), templates[n % len(templates)])
        for n in range(items)
    ]
    return head + b"\n".join(body) + tail


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Return the sources figures."""
    items = 500 if quick else 2000
    feed = listing(items)
    with tempfile.TemporaryDirectory() as tmp:
        seconds = _timed_ingest(Path(tmp) / "fast.db", feed)
        naive = _timed_naive(Path(tmp) / "naive.db", feed)
        refetch, first, not_modified = _refetch(Path(tmp), feed)
    return [
        figure(f"parse + upsert a {items:,}-item listing (SQLite)", seconds, "s", "<= 2 s",
                naive, seconds <= 2.0),
        figure("refetch of an unchanged listing (304, no parsing)", refetch, "s",
                "304 and faster than a full fetch", first, not_modified and refetch < first),
    ]  # fmt: skip


@contextmanager
def _sessions(path: Path) -> Iterator[Any]:
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    try:
        yield db.make_sessionmaker(engine)
    finally:
        engine.dispose()


def _timed_ingest(path: Path, feed: bytes) -> float:
    with _sessions(path) as sessions:
        start = time.perf_counter()
        with db.session_scope(sessions) as session:
            _, parsed = parse(feed)
            paper_store.upsert_papers(session, parsed.papers, datetime.now(UTC))
        return time.perf_counter() - start


def _timed_naive(path: Path, feed: bytes) -> float:
    """The naive baseline: one lookup, one upsert and one commit per paper."""
    with _sessions(path) as sessions:
        start = time.perf_counter()
        _, parsed = parse(feed)
        for paper in parsed.papers:
            with db.session_scope(sessions) as session:
                paper_store.upsert_papers(session, [paper], datetime.now(UTC))
        return time.perf_counter() - start


def _refetch(tmp: Path, feed: bytes) -> tuple[float, float, bool]:
    settings = load_settings(sources_file=tmp / "none.toml", database_url="sqlite://")
    with _serving(feed) as url, _sessions(tmp / "refetch.db") as sessions:
        source = Source.model_validate({"name": "bench", "kind": "arxiv_listing", "url": url})
        with Fetcher(settings) as door:
            first = fetch_source(door, sessions, source, LISTING_DAY)
            second = fetch_source(door, sessions, source, LISTING_DAY)
    return second.seconds, first.seconds, second.not_modified and first.new > 0


@contextmanager
def _serving(body: bytes) -> Iterator[str]:
    etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            fresh = self.headers.get("If-None-Match") == etag
            self.send_response(304 if fresh else 200)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0" if fresh else str(len(body)))
            self.end_headers()
            if not fresh:
                self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/rss"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
