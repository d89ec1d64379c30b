"""A real local SMTP server (aiosmtpd) that writes every message to outbox/<id>.eml and .html.

Used by `make demo`, the tests and `digest serve --dev` as a dev inbox.
"""

from __future__ import annotations

import email
import email.policy
import logging
import re
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# aiosmtpd logs every SMTP command at INFO; that is noise in a dev inbox and costs a sink dearly.
logging.getLogger("mail.log").setLevel(logging.WARNING)


@dataclass
class Received:
    """One message as the server got it."""

    sender: str
    recipients: list[str]
    message: EmailMessage
    path: Path | None


@dataclass
class OutboxHandler:
    """aiosmtpd handler: keep each message in memory and, if asked, on disk."""

    directory: Path | None = None
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    keep: bool = True  # False: a sink that only counts (benchmarks)
    count: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.count += 1
        if not self.keep:
            return "250 OK: discarded"
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        path = write_outbox(self.directory, message, raw) if self.directory else None
        with self.lock:
            self.received.append(
                Received(envelope.mail_from or "", list(envelope.rcpt_tos), message, path)
            )
        return "250 OK: queued"


def write_outbox(directory: Path, message: EmailMessage, raw: bytes | None = None) -> Path:
    """Write `message` as <message-id>.eml, and its HTML part as <message-id>.html."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = _UNSAFE.sub("_", str(message.get("Message-ID", "message")).strip("<>"))
    path = directory / f"{stem}.eml"
    path.write_bytes(raw if raw is not None else message.as_bytes())
    html = message.get_body(preferencelist=("html",))
    if html is not None:
        (directory / f"{stem}.html").write_text(html.get_content(), encoding="utf-8")
    return path


def free_port(host: str = "127.0.0.1") -> int:
    """Ask the OS for a free TCP port."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class OutboxServer:
    """Run an OutboxHandler on host:port in a background thread (a context manager)."""

    def __init__(
        self,
        directory: Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        keep: bool = True,
    ) -> None:
        self.handler = OutboxHandler(directory, keep=keep)
        self.host = host
        self.port = port or free_port(host)
        self._controller: Controller | None = None

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def start(self) -> OutboxServer:
        """Listen on host:port (again, after a stop: tests simulate an outage this way)."""
        self._controller = Controller(self.handler, hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> OutboxServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def serve_forever(host: str, port: int, directory: Path | None) -> None:
    """Run the server in the foreground until interrupted (`digest mailcatcher`)."""
    import time

    with OutboxServer(directory, host=host, port=port, keep=directory is not None):
        while True:
            time.sleep(3600)
