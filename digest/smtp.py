"""SMTP transport: reused connections, TLS, auth, a rate limit and the reply-code policy.

Outcomes of one message (`SendResult.outcome`):
- "sent": the server answered 250 to the end of DATA.
- "retry": 4xx, or 552 (RFC 5321 treats it as temporary), or the connection dropped before the
  server's reply to DATA. Note that in that last case the server may already hold the message.
- "bounced": 5xx with enhanced status 5.1.x (not 5.1.7/5.1.8, the sender's) on RCPT: the address
  does not exist.
- "failed": any other permanent refusal. 5.7.x means policy (DKIM, SPF, spam, relay): an operator
  problem, logged as such, never blamed on the address.
"""

from __future__ import annotations

import io
import logging
import re
import smtplib
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.generator import BytesGenerator
from email.message import EmailMessage
from functools import cache
from typing import Any

from digest.config import Settings

log = logging.getLogger(__name__)
_ENHANCED = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})\b")
_NEWLINE = re.compile(r"\r\n|\r|\n")  # any line end, as the email generator splits lines
CRLF = "\r\n"
_SENDER_STATUSES = {"7", "8"}  # 5.1.7 / 5.1.8: bad sender address, not the recipient's


@dataclass
class SendResult:
    """What happened to one message."""

    outcome: str  # "sent" | "retry" | "bounced" | "failed"
    code: int | None
    reply: str


class SmtpUnavailable(Exception):
    """The SMTP server cannot be reached or refuses our login: stop the run, retry later."""


def classify(code: int, reply: str, stage: str) -> str:
    """Map an SMTP reply at a stage ("mail", "rcpt", "data") to an outcome."""
    if 200 <= code < 300:
        return "sent"
    if 400 <= code < 500 or code == 552:
        return "retry"
    status = _ENHANCED.match(reply)
    if stage == "rcpt" and status and status[1] == "5" and status[2] == "1":
        return "failed" if status[3] in _SENDER_STATUSES else "bounced"
    return "failed"


class RateLimiter:
    """Space messages at least 1/rate seconds apart, across threads (rate 0: no limit)."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._clock = clock
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Block until this caller's slot comes."""
        if not self.interval:
            return
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


@cache
def shared_limiter(rate: float) -> RateLimiter:
    """One limiter per rate per process, so every Mailer's connection counts against it."""
    return RateLimiter(rate)


class _Tracking:
    """Remember the last command sent and the reply to DATA, to know how far a send got."""

    last_command = ""
    data_reply: tuple[int, bytes] = (0, b"")

    def putcmd(self, cmd: str, args: str = "") -> None:
        self.last_command = cmd.lower()
        super().putcmd(cmd, args)  # type: ignore[misc]

    def data(self, msg: Any) -> tuple[int, bytes]:
        self.data_reply = super().data(msg)  # type: ignore[misc]
        return self.data_reply


class _SMTP(_Tracking, smtplib.SMTP):
    pass


class _SMTPSSL(_SMTP, smtplib.SMTP_SSL):
    pass


class Mailer:
    """One SMTP connection reused for many messages (a context manager)."""

    def __init__(self, settings: Settings, limiter: RateLimiter | None = None) -> None:
        self.settings = settings
        self.limiter = limiter or shared_limiter(settings.smtp_rate_limit)
        self._smtp: _SMTP | None = None

    def __enter__(self) -> Mailer:
        self._smtp = self._connect()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Say QUIT if the server still listens; never raise."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()

    def send(self, message: EmailMessage) -> SendResult:
        """Send one message and classify the outcome; reconnect once if the server dropped us."""
        self.limiter.wait()
        for attempt in (1, 2):
            if self._smtp is None:
                self._smtp = self._connect()
            smtp = self._smtp
            try:
                return self._transact(smtp, message)
            except (smtplib.SMTPServerDisconnected, OSError) as exc:
                self._smtp = None
                smtp.close()
                # Before DATA nothing was handed over, so sending again cannot duplicate.
                if smtp.last_command == "data" or attempt == 2:
                    stage = smtp.last_command or "start"
                    return SendResult("retry", None, f"connection lost at {stage}: {exc}")
        raise AssertionError("unreachable")

    def _transact(self, smtp: _SMTP, message: EmailMessage) -> SendResult:
        """Run MAIL/RCPT/DATA; protocol refusals become results, connection loss propagates."""
        smtp.last_command = ""
        try:
            envelope = _ascii_envelope(message)
            if envelope is None:  # internationalized: smtplib negotiates SMTPUTF8
                refused = smtp.send_message(message)
            else:
                refused = smtp.sendmail(*envelope, wire_bytes(message))
        except smtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients
        except smtplib.SMTPSenderRefused as exc:
            return self._result(exc.smtp_code, exc.smtp_error, "mail", message)
        except smtplib.SMTPResponseException as exc:
            return self._result(exc.smtp_code, exc.smtp_error, "data", message)
        except smtplib.SMTPNotSupportedError as exc:
            return SendResult("failed", None, str(exc))
        finally:
            if smtp.sock is None:  # smtplib closes the socket itself after a 421
                self._smtp = None
        if refused:
            # One recipient per message: a refusal (returned or raised) is about that address.
            code, reply = next(iter(refused.values()))
            return self._result(code, reply, "rcpt", message)
        code, reply = smtp.data_reply
        return SendResult("sent", code, _text(reply))

    def _result(
        self, code: int, reply: bytes | str, stage: str, message: EmailMessage
    ) -> SendResult:
        text = _text(reply)
        outcome = classify(code, text, stage)
        status = _ENHANCED.match(text)
        if outcome == "failed" and status and status[1] == "5" and status[2] == "7":
            log.error(
                "SMTP server refused a message to %s for policy reasons (%s %s) at %s: check "
                "DKIM/SPF/relay settings; the address is not marked bounced",
                message["To"],
                code,
                text,
                stage,
            )
        return SendResult(outcome, code, text)

    def _connect(self) -> _SMTP:
        """Open, secure and authenticate a connection, or raise SmtpUnavailable."""
        s = self.settings
        context = ssl.create_default_context()
        smtp: _SMTP | None = None
        try:
            if s.smtp_security == "ssl":
                smtp = _SMTPSSL(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout, context=context)
            else:
                smtp = _SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
            smtp.ehlo()
            if s.smtp_security == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password.get_secret_value())
        except (OSError, smtplib.SMTPException) as exc:
            if smtp is not None:
                smtp.close()
            where = f"{s.smtp_host}:{s.smtp_port} ({s.smtp_security})"
            raise SmtpUnavailable(f"cannot use SMTP server {where}: {_describe(exc)}") from exc
        return smtp


class _BodiesWhole(BytesGenerator):
    """BytesGenerator that writes each body in one piece; the stock one writes line by line.

    Only for `wire_bytes`, whose line ends are always CRLF.
    """

    def _write_lines(self, lines: str) -> None:
        if lines:
            whole = lines.replace("\n", CRLF) if "\r" not in lines else _NEWLINE.sub(CRLF, lines)
            self.write(whole)


def wire_bytes(message: EmailMessage) -> bytes:
    """The message as it goes over SMTP: what `send_message` would send, made faster."""
    with io.BytesIO() as wire:
        _BodiesWhole(wire, policy=message.policy).flatten(message, linesep=CRLF)
        return wire.getvalue()


def _ascii_envelope(message: EmailMessage) -> tuple[str, list[str]] | None:
    """(sender, recipients) as `send_message` reads them, from the already parsed address
    headers; None where it does more (an address that is not ASCII, a Bcc it must strip)."""
    if "Bcc" in message or "Resent-Bcc" in message:
        return None
    sender = (message["Sender"] or message["From"]).addresses[0].addr_spec
    headers = [message[name] for name in ("To", "Cc") if name in message]
    recipients = [address.addr_spec for header in headers for address in header.addresses]
    return (sender, recipients) if "".join([sender, *recipients]).isascii() else None


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    return str(exc) or type(exc).__name__
