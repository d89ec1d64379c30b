"""Outgoing confirmation and magic-link emails, sent by a background thread off the request path.

A request only enqueues; the thread renders and sends in batches over one SMTP connection. Each
web worker process has its own queue; `flush` lets tests and shutdown wait for it to drain.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass, field
from typing import Any

from digest.config import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outgoing:
    """One email to render and send: a template kind, its plain context and the recipient."""

    kind: str
    to: str
    context: dict[str, Any] = field(default_factory=dict)
    ref: int | None = None  # the subscriber id, for the log line


class MailQueue:
    """A queue.Queue drained by one daemon thread, started on first use (after any fork)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._queue: queue.Queue[Outgoing] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._renderer: Any = None

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
            batch = [self._queue.get()]
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._send(batch)
            except Exception:  # the thread must outlive a bad batch or an SMTP outage
                log.exception("could not send %d queued email(s); they are dropped", len(batch))
            finally:
                for _ in batch:
                    self._queue.task_done()

    def _send(self, batch: list[Outgoing]) -> None:
        from digest.mailer import Mailer, build_message

        renderer = self._get_renderer()
        with Mailer(self.settings) as mailer:
            for item in batch:
                rendered = renderer.message(item.kind, **item.context)
                message = build_message(
                    rendered, to=item.to, settings=self.settings, unsubscribe_url=None
                )
                result = mailer.send(message)
                log.info("sent %s email to subscriber %s: %s", item.kind, item.ref, result)

    def _get_renderer(self) -> Any:
        if self._renderer is None:
            from digest.render import Renderer

            self._renderer = Renderer()
        return self._renderer
