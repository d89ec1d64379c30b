"""Web bench: landing page, preferences GET and subscribe POST on gunicorn against SQLite.

The server runs as `digest serve` in its own process; the load comes from other processes on
loopback (see digest.loadgen): the most requests/s a few busy connections get, and the p99
latency when requests arrive at the target rate. Rate limits are relaxed; subscribe queues its
confirmation email, which a local SMTP sink receives.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from digest import db
from digest.config import Settings, load_settings
from digest.loadgen import LoadResult, Target, closed_loop, open_loop
from digest.outbox import OutboxServer, free_port

TARGET_RPS = 200.0
TARGET_P99_MS = 50.0
CONNECTIONS = 4
PAPERS = 600


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Measure each page; return throughput and p99 figures."""
    seconds = 3 if quick else 5
    with tempfile.TemporaryDirectory() as tmp, OutboxServer() as smtp:
        port = free_port()
        env = _environment(Path(tmp), smtp, port)
        settings = load_settings(None, **_overrides(env))
        prefs_path = _prepare(settings)
        baselines = {"preferences GET": _naive_preview_rps(settings)}
        with _server(env, port) as base:
            pages = {
                "landing page GET": Target(f"{base}/"),
                "preferences GET": Target(f"{base}{prefs_path}"),
                "subscribe POST": _subscribe_target(base),
            }
            figures: list[dict[str, Any]] = []
            for name, target in pages.items():
                closed_loop(target, 1, CONNECTIONS, Path(tmp))  # warm up: the preview, pools
                most = closed_loop(target, seconds, CONNECTIONS, Path(tmp))
                held = _median_run(target, seconds, 1 if quick else 3)
                figures += _figures(name, most, held, baselines.get(name))
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


def _subscribe_target(base: str) -> Target:
    """Fetch the form once, as a browser would, for a real CSRF token and session cookie."""
    with urllib.request.urlopen(f"{base}/", timeout=5) as answer:
        cookie = answer.headers["Set-Cookie"].split(";", 1)[0]
        found = re.search(r'name="csrf_token" value="([^"]+)"', answer.read().decode())
    assert found, "the landing page has no form"
    return Target(f"{base}/subscribe", found.group(1), cookie)


def _median_run(target: Target, seconds: int, runs: int) -> LoadResult:
    """The median of a few runs at the target rate: one stall of a shared machine is not ours."""
    results = sorted((open_loop(target, seconds, TARGET_RPS) for _ in range(runs)), key=_p99)
    return results[len(results) // 2]


def _p99(result: LoadResult) -> float:
    return result.p99_ms


def _naive_preview_rps(settings: Settings, rounds: int = 3) -> float:
    """Baseline: previews per second if every preview fitted the features again (no cache)."""
    from digest.editions import profile_for
    from digest.store.subscribers import get_by_email
    from digest.web.preview import PreviewCache

    engine = db.make_engine(settings.database_url)
    sessions = db.make_sessionmaker(engine)
    with sessions() as session:
        sub = get_by_email(session, "bench@example.org")
        assert sub is not None, "the bench subscriber is missing"
        profile = profile_for(sub, [], [])
        start = time.perf_counter()
        for _ in range(rounds):
            PreviewCache(sessions).rank(session, profile, datetime.now(UTC))
        elapsed = time.perf_counter() - start
    engine.dispose()
    return rounds / elapsed


def _figures(
    name: str, most: LoadResult, held: LoadResult, baseline: float | None
) -> list[dict[str, Any]]:
    failed = most.failed + held.failed
    suffix = f" ({failed} failed requests)" if failed else ""
    return [
        {
            "name": f"web {name}: requests/s, {CONNECTIONS} busy connections{suffix}",
            "value": round(most.rps, 1),
            "unit": "req/s",
            "target": f">= {TARGET_RPS:g}",
            "baseline": None if baseline is None else round(baseline, 1),
            "ok": most.rps >= TARGET_RPS and failed == 0,
        },
        {
            "name": f"web {name}: p99 latency at {TARGET_RPS:g} req/s (median of runs)",
            "value": round(held.p99_ms, 2),
            "unit": "ms",
            "target": f"< {TARGET_P99_MS:g}",
            "baseline": None,
            "ok": held.p99_ms < TARGET_P99_MS and held.rps >= TARGET_RPS * 0.95,
        },
    ]
