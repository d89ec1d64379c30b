"""Web bench: landing page, preferences GET and subscribe POST on gunicorn against SQLite.

The server runs as `digest serve` in its own process; the load comes from another process on
loopback (wrk when installed, else a small Python client). Rate limits are relaxed; subscribe
queues its confirmation email, which a local SMTP sink receives.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from digest import db
from digest.config import Settings, load_settings
from digest.outbox import OutboxServer, free_port

TARGET_RPS = 200.0
TARGET_P99_MS = 50.0
CONNECTIONS = 4
PAPERS = 600


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Measure each page; return throughput and p99 figures."""
    seconds = 3 if quick else 8
    with tempfile.TemporaryDirectory() as tmp, OutboxServer() as smtp:
        port = free_port()
        env = _environment(Path(tmp), smtp, port)
        settings = load_settings(None, **_overrides(env))
        prefs_path = _prepare(settings)
        with _server(env, port) as base:
            pages = {
                "landing page GET": Page(f"{base}/"),
                "preferences GET": Page(f"{base}{prefs_path}"),
                "subscribe POST": _subscribe_page(base),
            }
            figures: list[dict[str, Any]] = []
            for name, page in pages.items():
                _load(page, 1, Path(tmp))  # warm up: imports, the fitted preview, pools
                rps, p99, errors = _load(page, seconds, Path(tmp))
                figures += _figures(name, rps, p99, errors)
    return figures


def _environment(tmp: Path, smtp: OutboxServer, port: int) -> dict[str, str]:
    return {
        "DIGEST_DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
        "DIGEST_SMTP_HOST": smtp.host,
        "DIGEST_SMTP_PORT": str(smtp.port),
        "DIGEST_BASE_URL": f"http://127.0.0.1:{port}",
        "DIGEST_SECRET_KEY": "bench-secret-key",
        "DIGEST_SUBSCRIBE_RATE_LIMIT": "1000000/second",
        "DIGEST_OUTBOX_DIR": str(tmp / "outbox"),
        "DIGEST_LOG_LEVEL": "WARNING",
        "DIGEST_SOURCES_FILE": str(tmp / "sources.toml"),
    }


def _overrides(env: dict[str, str]) -> dict[str, str]:
    return {key.removeprefix("DIGEST_").lower(): value for key, value in env.items()}


def _prepare(settings: Settings) -> str:
    """Create the schema, recent papers and one subscriber; return their preferences path."""
    from digest.sources import PaperIn
    from digest.store import papers as paper_store
    from digest.store import subscribers as store
    from digest.tokens import Links, Tokens

    engine = db.make_engine(settings.database_url)
    db.upgrade(engine)
    now = datetime.now(UTC)
    words = "diffusion graph retrieval protein language vision robot policy kernel causal".split()
    papers = [
        PaperIn(
            id=f"2611.{i:05d}",
            title=f"{words[i % 10].title()} models for {words[(i * 7) % 10]} tasks, part {i}",
            abstract=" ".join(words[(i + k) % 10] for k in range(60)),
            source="bench",
            authors=[f"Author {i % 97}", f"Author {i % 31}"],
            categories=["cs.LG"],
        )
        for i in range(PAPERS)
    ]
    with db.session_scope(db.make_sessionmaker(engine)) as session:
        paper_store.upsert_papers(session, papers, now - timedelta(hours=2))
        sub = store.create_subscriber(
            session,
            "bench@example.org",
            settings=settings,
            now=now,
            confirmed=True,
            keywords=["diffusion", "protein design"],
            categories=["cs.LG"],
        )
        sid, version = sub.id, sub.token_version
    engine.dispose()
    links = Links(settings.base_url, Tokens(settings.secret_key.get_secret_value()))
    return links.preferences(sid, version).removeprefix(settings.base_url)


class _server:
    """`digest serve` in a child process, until the context ends."""

    def __init__(self, env: dict[str, str], port: int) -> None:
        self.env, self.port = {**os.environ, **env}, port
        self.base = f"http://127.0.0.1:{port}"

    def __enter__(self) -> str:
        command = [sys.executable, "-m", "digest", "serve", "--port", str(self.port)]
        self.process = subprocess.Popen(command, env=self.env, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.base}/healthz", timeout=1).read()
                return self.base
            except OSError:
                time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("digest serve did not answer /healthz within 30 s")

    def __exit__(self, *_exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=15)


@dataclass(frozen=True)
class Page:
    """One thing to load: a GET, or the subscribe POST with a CSRF token and its cookie."""

    url: str
    token: str = ""
    cookie: str = ""


def _subscribe_page(base: str) -> Page:
    """Fetch the form once, as a browser would, for a real CSRF token and session cookie."""
    with urllib.request.urlopen(f"{base}/", timeout=5) as answer:
        cookie = answer.headers["Set-Cookie"].split(";", 1)[0]
        found = re.search(r'name="csrf_token" value="([^"]+)"', answer.read().decode())
    assert found, "the landing page has no form"
    return Page(f"{base}/subscribe", found.group(1), cookie)


_WRK_SUBSCRIBE = """
local count, tid, threads = 0, 0, 0
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
function request()
  count = count + 1
  local body = "csrf_token=@TOKEN@&topics=diffusion&timezone=UTC&email=b" .. tid .. "-" ..
    count .. "-" .. os.time() .. "%40example.org"
  local headers = {["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = "@COOKIE@"}
  return wrk.format("POST", nil, headers, body)
end
"""


def _load(page: Page, seconds: int, tmp: Path) -> tuple[float, float, int]:
    """Drive the page from another process; return (requests/s, p99 ms, failed requests)."""
    if shutil.which("wrk") is None:
        return _python_load(page, seconds)
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", page.url]
    if page.token:
        script = tmp / "subscribe.lua"
        script.write_text(
            _WRK_SUBSCRIBE.replace("@TOKEN@", page.token).replace("@COOKIE@", page.cookie)
        )
        command[1:1] = ["-s", str(script)]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30).stdout
    return _parse_wrk(out)


def _python_load(page: Page, seconds: int) -> tuple[float, float, int]:
    """Without wrk: CONNECTIONS keep-alive clients in a child process (see `_client_main`)."""
    code = "from digest.bench_web import _client_main; _client_main()"
    args = [page.url, page.token, page.cookie, str(seconds), str(CONNECTIONS)]
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=seconds + 60
    ).stdout
    rps, p99, failed = out.split()
    return float(rps), float(p99), int(failed)


def _client_main() -> None:
    """Child process: hammer the URL from several threads; print rps, p99 ms and failures."""
    import http.client
    import threading
    from urllib.parse import urlsplit

    url, token, cookie, seconds, connections = sys.argv[1:6]
    parts, stop = urlsplit(url), time.monotonic() + float(seconds)
    latencies: list[float] = []
    failed = [0]

    def client(tid: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
        for count in itertools.count():
            if time.monotonic() >= stop:
                return
            start = time.perf_counter()
            if token:
                body = f"csrf_token={token}&email=p{tid}-{count}-{int(stop)}%40example.org"
                headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
                conn.request("POST", parts.path, body, headers)
            else:
                conn.request("GET", parts.path)
            answer = conn.getresponse()
            answer.read()
            latencies.append(time.perf_counter() - start)
            failed[0] += answer.status >= 400

    threads = [threading.Thread(target=client, args=(i,)) for i in range(int(connections))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else float("nan")
    print(len(latencies) / float(seconds), p99, failed[0])


def _parse_wrk(out: str) -> tuple[float, float, int]:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"\s99%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*?(\d+).*?(\d+).*?(\d+).*?(\d+)", out)
    failed = int(bad.group(1)) if bad else 0
    return rps, p99, failed + (sum(map(int, errors.groups())) if errors else 0)


def _figures(name: str, rps: float, p99: float, errors: int) -> list[dict[str, Any]]:
    suffix = f" ({errors} failed)" if errors else ""
    return [
        {
            "name": f"web {name}: throughput{suffix}",
            "value": round(rps, 1),
            "unit": "req/s",
            "target": f">= {TARGET_RPS:g}",
            "baseline": None,
            "ok": rps >= TARGET_RPS and errors == 0,
        },
        {
            "name": f"web {name}: p99 latency ({CONNECTIONS} connections)",
            "value": round(p99, 2),
            "unit": "ms",
            "target": f"< {TARGET_P99_MS:g}",
            "baseline": None,
            "ok": p99 < TARGET_P99_MS,
        },
    ]
