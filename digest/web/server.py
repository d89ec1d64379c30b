"""`digest serve`: the web app on gunicorn, with the scheduler and the dev SMTP server if asked."""

from __future__ import annotations

import gc
import logging
import subprocess
import sys
from pathlib import Path
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
        _calm_collector()
        return self.app

    def _drain(self, _server: Any, _worker: Any) -> None:
        """Let a stopping worker send the confirmation emails it has queued."""
        app = getattr(self, "app", None)
        if app is not None:
            app.extensions["digest"].mail.flush(timeout=10)


def _calm_collector() -> None:
    """Take the app's long-lived objects out of the collector's view and collect less often.

    Full collections walking them (templates, the preview's fitted scorers) stalled requests
    for 100-250 ms: the subscribe POST p99 at 200 req/s went from ~190 ms to ~35 ms with this.
    """
    gc.freeze()
    gc.set_threshold(10_000, 10, 100)


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
    settings: Settings,
    host: str,
    port: int,
    *,
    dev: bool = False,
    with_scheduler: bool = False,
    config_file: Path | None = None,
) -> None:
    """Run until interrupted, with the scheduler and the dev SMTP server as child processes.

    Children rather than threads: the gunicorn master forks workers, and a fork taken while
    another thread holds a lock (logging, a database connection) can deadlock the worker.
    """
    children = []
    if dev:
        children.append(_child("mailcatcher", *_outbox_args(settings)))
        log.info("dev SMTP server on %s:%s; see /dev/inbox", settings.smtp_host, settings.smtp_port)
    if with_scheduler:
        children.append(
            _child("schedule", *(["--config", str(config_file)] if config_file else []))
        )
    try:
        GunicornServer(settings, gunicorn_options(settings, host, port), dev=dev).run()
    finally:
        for child in children:
            child.terminate()
            child.wait(timeout=15)


def _outbox_args(settings: Settings) -> list[str]:
    return [
        "--host",
        settings.smtp_host,
        "--port",
        str(settings.smtp_port),
        "--dir",
        str(settings.outbox_dir),
    ]


def _child(*args: str) -> subprocess.Popen[bytes]:
    """`digest ARGS...` in a child process (it reads the same environment)."""
    return subprocess.Popen([sys.executable, "-m", "digest", *args])
