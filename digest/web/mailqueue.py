"""Outgoing confirmation and magic-link emails, sent by a background thread off the request path.

A request only enqueues; the thread renders and sends in batches over one SMTP connection. Each
web worker process has its own queue; `flush` lets tests and shutdown wait for it to drain.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from typing import Any

from digest.config import Settings
from digest.mailer import Mailer, build_message
from digest.render import Renderer

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 4
RETRY_SECONDS = 10.0


@dataclass(frozen=True)
class Outgoing:
    """One email to render and send: a template kind, its plain context and the recipient."""

    kind: str
    to: str
    context: dict[str, Any] = field(default_factory=dict)
    ref: int | None = None  # the subscriber id, for the log line
    attempt: int = 0


class MailQueue:
    """A queue.Queue drained by one daemon thread, started on first use (after any fork)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._queue: queue.Queue[Outgoing] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._renderer: Renderer | None = None
        self.retry_seconds = RETRY_SECONDS

    def put(self, item: Outgoing) -> None:
        """Queue an email; returns at once."""
        self._ensure_thread()
        self._queue.put(item)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued email was handled; False on timeout."""
        done = self._queue.all_tasks_done
        with done:
            return done.wait_for(lambda: self._queue.unfinished_tasks == 0, timeout)

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="mail-queue", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            batch = self._take()
            try:
                self._retry_later(self._send(batch))
            finally:
                for _ in batch:
                    self._queue.task_done()

    def _take(self) -> list[Outgoing]:
        batch = [self._queue.get()]
        while True:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                return batch

    def _send(self, batch: list[Outgoing]) -> list[Outgoing]:
        """Send over one connection; return what to try again (never what was sent)."""
        remaining, again = list(batch), []
        try:
            with Mailer(self.settings) as mailer:
                while remaining:
                    item = remaining[0]
                    result = mailer.send(self._message(item))
                    remaining.pop(0)
                    log.info("%s email to subscriber %s: %s", item.kind, item.ref, result.outcome)
                    if result.outcome == "retry":
                        again.append(item)
        except Exception:  # the thread must outlive an SMTP outage or a bad message
            log.exception("could not send %d queued email(s)", len(remaining))
            again += remaining
        return again

    def _message(self, item: Outgoing) -> EmailMessage:
        rendered = self._get_renderer().message(item.kind, **item.context)
        return build_message(rendered, to=item.to, settings=self.settings, unsubscribe_url=None)

    def _retry_later(self, items: list[Outgoing]) -> None:
        """Queue temporary failures again after a pause (the pause holds this thread only)."""
        keep = []
        for item in (replace(item, attempt=item.attempt + 1) for item in items):
            if item.attempt < MAX_ATTEMPTS:
                keep.append(item)
            else:
                log.warning("giving up on a %s email to subscriber %s", item.kind, item.ref)
        if keep:
            time.sleep(self.retry_seconds * keep[0].attempt)
        for item in keep:
            self._queue.put(item)

    def _get_renderer(self) -> Renderer:
        if self._renderer is None:
            self._renderer = Renderer()
        return self._renderer
