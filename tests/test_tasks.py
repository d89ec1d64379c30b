"""The send step on Celery: a real Redis broker, real `digest worker` processes, real SMTP.

A worker killed with SIGKILL mid-batch must lose nothing and send nothing twice: the tests count
the messages a real SMTP server received per recipient.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from aiosmtpd.controller import Controller
from sqlalchemy import select

from digest import db
from digest.config import Settings
from digest.models import Delivery
from digest.outbox import OutboxHandler, free_port
from digest.sources import PaperIn
from digest.store import papers as paper_store
from digest.store import subscribers as subscriber_store
from digest.tasks import BrokerUnavailable, fan_out

pytestmark = [pytest.mark.redis, pytest.mark.slow]

BROKER = "redis://127.0.0.1:6379/15"
DIGEST = Path(sys.executable).parent / "digest"
NOW = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
PEOPLE = ["alice", "bob", "carol", "dave", "erin"]
PAPERS = [
    PaperIn(
        id=f"2503.{20000 + n}",
        title=title,
        abstract=abstract,
        source="arxiv",
        authors=["Ada Lovelace"],
        categories=[category],
        published=date(2025, 3, 13),
    )
    for n, (title, abstract, category) in enumerate(
        [
            ("Denoising diffusion models for image synthesis",
             "We train diffusion models that generate images by iterative denoising.", "cs.CV"),
            ("Faster sampling for diffusion models",
             "A sampler for score-based diffusion models with fewer network evaluations.", "cs.LG"),
            ("Policy optimization in reinforcement learning",
             "Agents learn a policy with proximal updates and clipped objectives.", "cs.LG"),
            ("Speech recognition with small transformers",
             "Automatic speech recognition for low resource languages.", "cs.CL"),
            ("Graph coloring bounds",
             "We prove bounds for coloring sparse random graphs.", "math.CO"),
            ("Protein folding with equivariant networks",
             "Equivariant message passing predicts protein structure from sequence.", "q-bio.BM"),
        ]
    )
]  # fmt: skip


@dataclass
class HoldingHandler(OutboxHandler):
    """A real SMTP server that holds one recipient's RCPT reply until released: a window to kill
    a sender in, before the message exists, however loaded the machine is."""

    hold: str = "bob@example.org"
    port: int = 0
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address == self.hold and not self.held.is_set():
            self.held.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def broker() -> Iterator[str]:
    """A dedicated, empty Redis database as the broker."""
    client = redis.Redis.from_url(BROKER)
    client.flushdb()
    yield BROKER
    client.flushdb()
    client.close()


@pytest.fixture
def holding_smtp() -> Iterator[HoldingHandler]:
    handler = HoldingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    yield handler
    handler.release.set()
    controller.stop()


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start `digest worker` processes (each in its own process group); kill them all at the end."""
    started: list[subprocess.Popen[bytes]] = []

    def start(config: Path, *extra: str) -> subprocess.Popen[bytes]:
        args = [str(DIGEST), "--config", str(config), "worker", "--concurrency", "1", *extra]
        with (tmp_path / f"worker-{len(started)}.log").open("wb") as log:
            process = subprocess.Popen(args, stdout=log, stderr=log, start_new_session=True)
        started.append(process)
        return process

    yield start
    for process in started:
        _kill_group(process)
    for log in sorted(tmp_path.glob("worker-*.log")):
        sys.stderr.write(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}\n")


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the worker and its pool processes, and wait until init has reaped them all."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    process.wait(timeout=10)
    _wait_for(lambda: not _group_exists(process.pid), 10, "the killed processes to be reaped")


def _group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _config(settings: Settings, path: Path) -> Path:
    """Write the settings a worker needs to a TOML file: workers load settings themselves."""
    keys = [
        "database_url",
        "smtp_host",
        "smtp_port",
        "smtp_connections",
        "base_url",
        "mail_from",
        "broker_url",
        "executor",
        "outbox_dir",
        "sources_file",
    ]
    lines = [f"{key} = {json.dumps(_plain(getattr(settings, key)))}" for key in keys]
    lines.append(f"secret_key = {json.dumps(settings.secret_key.get_secret_value())}")
    path.write_text("\n".join(lines) + "\n")
    return path


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Path) else value


def _seed_day(settings: Settings, sessions: Any) -> None:
    """Store the day's papers and one confirmed subscriber per person, due at 08:00 UTC."""
    with db.session_scope(sessions) as session:
        paper_store.upsert_papers(session, PAPERS, NOW)
        for name in PEOPLE:
            subscriber_store.create_subscriber(
                session,
                f"{name}@example.org",
                settings=settings,
                now=NOW,
                keywords=["diffusion models"],
                send_time="08:00",
                timezone="UTC",
                confirmed=True,
            )


def _queue_editions(settings: Settings, sessions: Any) -> list[int]:
    """Store a day of papers and queue one edition per person, as the tick's select step does."""
    from digest import editions, schedule
    from digest.store import deliveries as delivery_store

    _seed_day(settings, sessions)
    with db.session_scope(sessions) as session:
        due = schedule.due_subscribers(delivery_store.active_subscribers(session), NOW)
        editions.queue_editions(session, due, NOW)
    with db.session_scope(sessions) as session:
        return delivery_store.pending_ids(session, NOW)


def _wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def _states(sessions: Any) -> Counter[str]:
    with db.session_scope(sessions) as session:
        return Counter(session.scalars(select(Delivery.state)))


def _all_sent(sessions: Any) -> Callable[[], bool]:
    return lambda: _states(sessions) == Counter({"sent": len(PEOPLE)})


def _copies(received: list[Any]) -> Counter[str]:
    return Counter(address for message in received for address in message.recipients)


def _celery_settings(settings: Settings, broker: str, port: int) -> Settings:
    return settings.model_copy(
        update={
            "executor": "celery",
            "broker_url": broker,
            "smtp_port": port,
            "smtp_connections": 1,
        }
    )


def test_a_tick_with_the_celery_executor_sends_through_a_worker(
    settings, sessions, smtp, broker, workers, tmp_path
):
    from digest.pipeline import run_tick

    settings = _celery_settings(settings, broker, smtp.port)
    workers(_config(settings, tmp_path / "digest.toml"))
    _seed_day(settings, sessions)

    report = run_tick(settings, now=NOW, fetch=False, sessions=sessions)

    assert report.queued == len(PEOPLE)
    _wait_for(_all_sent(sessions), 60, "the worker to send every edition")
    assert _copies(smtp.received) == {f"{name}@example.org": 1 for name in PEOPLE}


def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(
    settings, sessions, holding_smtp, broker, workers, tmp_path
):
    settings = _celery_settings(settings, broker, holding_smtp.port)
    config = _config(settings, tmp_path / "digest.toml")
    ids = _queue_editions(settings, sessions)
    first = workers(config)
    fan_out(settings, ids, batch_size=len(ids))

    # The batch is claimed; one message waits for its RCPT reply: kill the worker now.
    _wait_for(holding_smtp.held.is_set, 60, "the worker to reach the held recipient")
    _kill_group(first)
    holding_smtp.release.set()
    states = _states(sessions)
    assert states["sent"] == len(holding_smtp.received) < len(PEOPLE)
    assert states["sending"] == len(PEOPLE) - len(holding_smtp.received)

    # A new worker takes the unacknowledged batch back once its visibility timeout has passed.
    workers(config, "--visibility-timeout", "1")
    _wait_for(_all_sent(sessions), 60, "a second worker to finish the batch")
    assert _copies(holding_smtp.received) == {f"{name}@example.org": 1 for name in PEOPLE}


def test_a_pool_process_killed_mid_batch_is_requeued_and_finished_at_once(
    settings, sessions, holding_smtp, broker, workers, tmp_path
):
    settings = _celery_settings(settings, broker, holding_smtp.port)
    ids = _queue_editions(settings, sessions)
    workers(_config(settings, tmp_path / "digest.toml"))
    fan_out(settings, ids, batch_size=2)

    _wait_for(holding_smtp.held.is_set, 60, "the worker to reach the held recipient")
    with db.session_scope(sessions) as session:
        claimant = session.scalars(
            select(Delivery.claimed_by).where(Delivery.state == "sending")
        ).first()
    assert claimant is not None
    os.kill(int(claimant.split(":")[1]), signal.SIGKILL)
    holding_smtp.release.set()

    _wait_for(_all_sent(sessions), 60, "the worker to redo the lost batch")
    assert _copies(holding_smtp.received) == {f"{name}@example.org": 1 for name in PEOPLE}


def test_a_stopped_worker_finishes_its_batch_and_leaves_the_rest_queued(
    settings, sessions, holding_smtp, broker, workers, tmp_path
):
    settings = _celery_settings(settings, broker, holding_smtp.port)
    config = _config(settings, tmp_path / "digest.toml")
    ids = _queue_editions(settings, sessions)
    first = workers(config)
    fan_out(settings, ids, batch_size=2)

    # SIGTERM (what systemd and docker send) is a warm shutdown: the running batch completes.
    _wait_for(holding_smtp.held.is_set, 60, "the worker to reach the held recipient")
    first.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    holding_smtp.release.set()
    assert first.wait(timeout=60) == 0
    states = _states(sessions)
    assert states["sent"] == len(holding_smtp.received) < len(PEOPLE)
    assert states["sending"] == 0

    workers(config)
    _wait_for(_all_sent(sessions), 60, "a new worker to send the rest")
    assert _copies(holding_smtp.received) == {f"{name}@example.org": 1 for name in PEOPLE}


def test_two_workers_share_the_batches_and_send_each_edition_once(
    settings, sessions, smtp, broker, workers, tmp_path
):
    settings = _celery_settings(settings, broker, smtp.port)
    config = _config(settings, tmp_path / "digest.toml")
    ids = _queue_editions(settings, sessions)
    workers(config)
    workers(config)

    fan_out(settings, ids + ids, batch_size=1)  # every delivery offered twice

    _wait_for(_all_sent(sessions), 60, "the workers to send every edition")
    time.sleep(1)  # the duplicate offers run too, and must find nothing to claim
    assert _copies(smtp.received) == {f"{name}@example.org": 1 for name in PEOPLE}


def test_fan_out_names_an_unreachable_broker(settings):
    settings = settings.model_copy(update={"broker_url": f"redis://127.0.0.1:{free_port()}/0"})

    with pytest.raises(BrokerUnavailable, match="cannot reach the broker"):
        fan_out(settings, [1, 2, 3])


def test_the_worker_task_is_registered_with_safe_acknowledgement(settings):
    from digest.tasks import TASK, make_celery

    app = make_celery(settings)

    assert TASK in app.tasks
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.accept_content == ["json"]
