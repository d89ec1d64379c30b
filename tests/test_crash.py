"""A sender killed with SIGKILL at each point, then restarted: count the copies each got.

The one documented window: between the server's 250 and our commit. A crash exactly there resends
that one message (with the same Message-ID); every other crash point sends no one a second copy and
skips no one.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from pipeline_support import seed_diffusion_day
from smtp_scripted import Script, ScriptedHandler, ScriptedServer

from digest import db
from digest.models import Delivery
from digest.store import subscribers as subscriber_store

pytestmark = pytest.mark.slow
PEOPLE = ["alice@example.org", "bob@example.org", "carol@example.org", "dan@example.org"]
NOW = "2025-03-14T09:00:00+00:00"


@pytest.fixture
def day(settings, sessions):
    """Four subscribers who all want the one paper on diffusion models."""
    from datetime import UTC, datetime

    now = datetime.fromisoformat(NOW).astimezone(UTC)
    seed_diffusion_day(settings, sessions, PEOPLE, now)
    return sessions


def _run(settings, port: int, failpoint: str = "", wait: bool = True):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DIGEST_DATABASE_URL": settings.database_url,
        "DIGEST_SMTP_HOST": "127.0.0.1",
        "DIGEST_SMTP_PORT": str(port),
        "DIGEST_SMTP_CONNECTIONS": "1",
        "DIGEST_SOURCES_FILE": str(settings.sources_file),
        "DIGEST_BASE_URL": settings.base_url,
        "DIGEST_FAILPOINT": failpoint,
    }
    command = [sys.executable, "-m", "digest", "run", "--no-fetch", "--now", NOW]
    cwd = Path(settings.sources_file).parent
    if wait:
        return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=60)
    return subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _copies(server: ScriptedServer) -> Counter[str]:
    return Counter(r for m in server.received for r in m.recipients)


def _states(sessions) -> Counter[str]:
    with db.session_scope(sessions) as session:
        return Counter(d.state for d in session.query(Delivery))


def test_a_crash_after_the_claim_sends_everyone_exactly_once_after_restart(settings, day):
    with ScriptedServer({}) as server:
        crashed = _run(settings, server.port, failpoint="after_claim")
        assert crashed.returncode == -signal.SIGKILL
        assert _copies(server) == Counter()
        assert _states(day) == Counter({"sending": 4})
        assert _run(settings, server.port).returncode == 0
        assert _copies(server) == Counter({p: 1 for p in PEOPLE})
    assert _states(day) == Counter({"sent": 4})


def test_a_crash_after_the_250_before_the_commit_resends_only_that_message(settings, day):
    with ScriptedServer({}) as server:
        crashed = _run(settings, server.port, failpoint="after_250")
        assert crashed.returncode == -signal.SIGKILL
        first = _copies(server)
        assert sum(first.values()) == 1  # the server accepted one message, then we died
        assert _run(settings, server.port).returncode == 0
        copies = _copies(server)
    (twice,) = first
    assert copies == Counter({p: 2 if p == twice else 1 for p in PEOPLE})
    ids = [m.message["Message-ID"] for m in server.received if twice in m.recipients]
    assert ids[0] == ids[1]  # the same Message-ID, so mail clients can fold the duplicate


class _HoldData(ScriptedHandler):
    """Hold the end of DATA until told; drop the message if the client is gone by then."""

    def __init__(self) -> None:
        super().__init__(None)
        self.in_data = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        if not self.in_data.is_set():
            self.in_data.set()
            while not self.release.is_set():
                await asyncio.sleep(0.01)
            if server.transport is None or server.transport.is_closing():
                return "451 4.4.2 connection lost before the reply"
        return await super().handle_DATA(server, session, envelope)


def test_a_crash_mid_data_sends_everyone_exactly_once_after_restart(settings, day):
    server = ScriptedServer({})
    server.handler = _HoldData()
    server._controller.handler = server.handler
    with server:
        proc = _run(settings, server.port, wait=False)
        assert server.handler.in_data.wait(30)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        time.sleep(0.2)
        server.handler.release.set()
        time.sleep(0.2)
        assert _copies(server) == Counter()
        assert _run(settings, server.port).returncode == 0
        assert _copies(server) == Counter({p: 1 for p in PEOPLE})


def test_greylisting_is_retried_and_a_hard_bounce_marks_the_address(settings, day):
    script = {
        "bob@example.org": Script(rcpt="451 4.7.1 Greylisted", times=1),
        "carol@example.org": Script(rcpt="550 5.1.1 User unknown"),
    }
    with ScriptedServer(script) as server:
        assert _run(settings, server.port).returncode == 0
        with db.session_scope(day) as session:
            states = {
                subscriber_store.get_subscriber(session, d.subscriber_id).email: d.state
                for d in session.query(Delivery)
            }
            carol = subscriber_store.get_by_email(session, "carol@example.org")
            assert carol.status == "bounced"
        assert states["bob@example.org"] == "retry"
        assert states["carol@example.org"] == "failed"
        with db.session_scope(day) as session:
            session.query(Delivery).filter_by(state="retry").update({"next_attempt_at": None})
        assert _run(settings, server.port).returncode == 0
        assert _copies(server) == Counter(
            {"alice@example.org": 1, "bob@example.org": 1, "dan@example.org": 1}
        )
