"""Build each email as a standard-library EmailMessage (DESIGN section 4 headers, optional DKIM).

SMTP transport and the reply-code policy live in `digest.smtp` and are re-exported here, so the
rest of digest reaches mail through this one door.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage, MIMEPart
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import dkim

from digest.config import Settings
from digest.render import Rendered
from digest.smtp import Mailer, RateLimiter, SendResult, SmtpUnavailable, classify

__all__ = [
    "Mailer",
    "RateLimiter",
    "SendResult",
    "SmtpUnavailable",
    "build_message",
    "classify",
    "send_all",
]

ONE_CLICK = "List-Unsubscribe=One-Click"
SIGNED_HEADERS = (
    "From", "To", "Subject", "Date", "Message-ID", "List-Id", "List-Unsubscribe",
    "List-Unsubscribe-Post",
)  # fmt: skip
log = logging.getLogger(__name__)
K = TypeVar("K")
MAX_LINE = 998  # RFC 5322 hard limit; 7bit parts must respect it


class _HeaderClasses(HeaderRegistry):
    """The standard registry builds a new class for every header set; build each once."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type] = {}

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = super().__getitem__(name)
        return made


# refold_source="none": headers stored raw (List-Unsubscribe, DKIM-Signature) are sent exactly as
# given. Folding them would turn a long URL into RFC 2047 encoded words and break it.
POLICY = SMTP.clone(header_factory=_HeaderClasses(), refold_source="none")


def build_message(
    rendered: Rendered,
    *,
    to: str,
    settings: Settings,
    unsubscribe_url: str | None,
    message_id: str | None = None,
) -> EmailMessage:
    """Assemble headers and a text+html multipart/alternative; sign it when DKIM is set up."""
    message = EmailMessage(policy=POLICY)
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = rendered.subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id or make_msgid(domain=_domain(settings.mail_from))
    message["List-Id"] = settings.list_id
    if unsubscribe_url:
        message.set_raw("List-Unsubscribe", f"<{_one_line(unsubscribe_url)}>")
        message["List-Unsubscribe-Post"] = ONE_CLICK
    message["MIME-Version"] = "1.0"
    message.make_alternative()
    # Parts are MIMEParts (no MIME-Version of their own); typeshed types attach() too narrowly.
    message.attach(_part(rendered.text, "plain"))  # type: ignore[arg-type]
    message.attach(_part(rendered.html, "html"))  # type: ignore[arg-type]
    if settings.dkim_domain and settings.dkim_selector and settings.dkim_private_key_file:
        _sign(message, settings)
    return message


def _part(content: str, subtype: str) -> MIMEPart:
    """One body part: 7bit when it can travel as is, else quoted-printable."""
    part = MIMEPart(policy=SMTP)
    plain = content.isascii() and max(map(len, content.split("\n")), default=0) <= MAX_LINE
    part.set_content(content, subtype=subtype, cte="7bit" if plain else "quoted-printable")
    return part


def _sign(message: EmailMessage, settings: Settings) -> None:
    """Add a DKIM-Signature over the identity and List-* headers, folded as dkimpy made it."""
    assert settings.dkim_private_key_file is not None
    present = [name.encode() for name in SIGNED_HEADERS if name in message]
    header = dkim.sign(
        message.as_bytes(),
        settings.dkim_selector.encode(),
        settings.dkim_domain.encode(),
        _private_key(settings.dkim_private_key_file),
        include_headers=present,
    )
    name, _, value = header.decode("ascii").partition(":")
    message.set_raw(name, value.strip())


@lru_cache(maxsize=8)
def _private_key(path: Path) -> bytes:
    return path.read_bytes()


@lru_cache(maxsize=8)
def _domain(mail_from: str) -> str:
    """The domain of the From address, for Message-IDs (avoids a DNS lookup per message)."""
    message = EmailMessage(policy=POLICY)
    message["From"] = mail_from
    addresses: tuple[Address, ...] = message["From"].addresses
    return (addresses[0].domain if addresses else "") or "localhost"


def _one_line(value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError("header values may not contain CR or LF")
    return value


def send_all(
    settings: Settings,
    messages: Iterable[tuple[K, EmailMessage]],
    on_result: Callable[[K, SendResult], None],
) -> None:
    """Send over settings.smtp_connections connections; call on_result in the caller's thread.

    `messages` is consumed lazily, one item at a time under a lock, from the worker threads. A
    connection that fails ends its worker (its message is reported "retry"); the others go on.
    Raise SmtpUnavailable only when every connection failed before the messages ran out.
    """
    source = iter(messages)
    lock = threading.Lock()
    stop = threading.Event()
    results: queue.Queue[tuple[K, SendResult] | BaseException | None] = queue.Queue()

    def take() -> tuple[K, EmailMessage] | None:
        with lock:
            return None if stop.is_set() else next(source, None)

    def work() -> None:
        try:
            with Mailer(settings) as mailer:
                while (item := take()) is not None:
                    key, message = item
                    try:
                        results.put((key, mailer.send(message)))
                    except SmtpUnavailable as exc:  # the server vanished: retry this one later
                        results.put((key, SendResult("retry", None, str(exc))))
                        raise
        except BaseException as exc:  # handed to the caller's thread, which re-raises
            results.put(exc)
            return
        results.put(None)

    workers = [threading.Thread(target=work, daemon=True) for _ in range(settings.smtp_connections)]
    for worker in workers:
        worker.start()
    try:
        errors = _collect(results, len(workers), on_result)
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    if len(errors) == len(workers):
        raise errors[0]
    for error in errors:
        log.warning("one SMTP connection gave up (%s); the others sent the rest", error)


def _collect(
    results: queue.Queue[tuple[K, SendResult] | BaseException | None],
    workers: int,
    on_result: Callable[[K, SendResult], None],
) -> list[BaseException]:
    """Hand each result to on_result until every worker has finished; return their errors."""
    errors: list[BaseException] = []
    finished = 0
    while finished < workers:
        item = results.get()
        if item is None or isinstance(item, BaseException):
            finished += 1
            if item is not None:
                errors.append(item)
            continue
        on_result(*item)
    return errors
