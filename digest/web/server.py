"""`digest serve`: the web app on gunicorn, with the scheduler and the dev SMTP server if asked."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from digest.config import Settings

log = logging.getLogger(__name__)
THREADS = 4


class GunicornServer(BaseApplication):
    """gunicorn configured from code; each worker builds its own app after the fork."""

    def __init__(self, settings: Settings, options: dict[str, Any], dev: bool = False) -> None:
        self.settings = settings
        self.options = options
        self.dev = dev
        super().__init__()

    def load_config(self) -> None:
        for key, value in {**self.options, "worker_exit": self._drain}.items():
            self.cfg.set(key, value)
        if "control_socket_disable" in self.cfg.settings:
            # gunicorn >= 25 opens ~/.gunicorn/gunicorn.ctl; several servers would share it.
            self.cfg.set("control_socket_disable", True)

    def load(self) -> Flask:
        from digest.web import create_app

        self.app = create_app(self.settings, dev=self.dev)
        return self.app

    def _drain(self, _server: Any, _worker: Any) -> None:
        """Let a stopping worker send the confirmation emails it has queued."""
        app = getattr(self, "app", None)
        if app is not None:
            app.extensions["digest"].mail.flush(timeout=10)


def gunicorn_options(settings: Settings, host: str, port: int, **extra: Any) -> dict[str, Any]:
    """Production defaults: processes x threads, no request logging.

    On SQLite one process serves all threads: SQLite takes one writer at a time, and writers in
    several processes wait on each other through its busy-timeout backoff (measured: p99 of the
    subscribe POST 210 ms with two processes, 30 ms with one).
    """
    workers = settings.web_workers
    if settings.database_url.startswith("sqlite") and workers > 1:
        log.info("SQLite database: serving with one process and %d threads", THREADS)
        workers = 1
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": THREADS,
        "timeout": 30,
        "graceful_timeout": 10,
        "keepalive": 5,
        "loglevel": settings.log_level.lower(),
        **extra,
    }


def serve(
    settings: Settings, host: str, port: int, *, dev: bool = False, with_scheduler: bool = False
) -> None:
    """Run until interrupted; in dev mode the local SMTP server catches every email."""
    outbox = _start_outbox(settings) if dev else None
    scheduler = _start_scheduler(settings) if with_scheduler else None
    try:
        GunicornServer(settings, gunicorn_options(settings, host, port), dev=dev).run()
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        if outbox is not None:
            outbox.stop()


def _start_scheduler(settings: Settings) -> Any:
    # In the gunicorn master only: workers are forked without its thread, so it runs once.
    from digest.schedule import start_background

    return start_background(settings)


def _start_outbox(settings: Settings) -> Any:
    from digest.outbox import OutboxServer

    server = OutboxServer(settings.outbox_dir, host=settings.smtp_host, port=settings.smtp_port)
    server.start()
    log.info(
        "dev SMTP server on %s:%s writes to %s; see /dev/inbox",
        settings.smtp_host,
        settings.smtp_port,
        settings.outbox_dir,
    )
    return server
