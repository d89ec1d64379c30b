"""Build each email as a standard-library EmailMessage (DESIGN section 4 headers, optional DKIM).

SMTP transport and the reply-code policy live in `digest.smtp` and are re-exported here, so the
rest of digest reaches mail through this one door.
"""

from __future__ import annotations

import base64
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage, MIMEPart
from email.policy import SMTP
from email.utils import make_msgid
from functools import lru_cache
from pathlib import Path
from typing import Any

import dkim

from digest.config import ConfigError, Settings
from digest.render import Rendered
from digest.smtp import Mailer, RateLimiter, SendResult, SmtpUnavailable, classify
from digest.smtp_pool import send_all

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
MAX_LINE = 998  # RFC 5322 hard limit; 7bit parts must respect it
# One MIME boundary for every message of this process, so the Content-Type header is parsed and
# folded once; the generator would otherwise draw one per message and search the text for it.
BOUNDARY = f"=_digest_{secrets.token_hex(12)}"


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


class _FoldOnce(type(SMTP)):  # type: ignore[misc]
    """SMTP policy that folds each distinct header line once: most repeat in every message."""

    def fold_binary(self, name: str, value: str) -> bytes:
        # Generators clone the policy for each message, so the key is what folding depends on,
        # not the policy object; the type too, as a raw string and a parsed header fold apart.
        key = (
            self.linesep,
            self.max_line_length,
            self.utf8,
            self.cte_type,
            name,
            value,
            type(value),
        )
        folded = _FOLDS.get(key)
        if folded is None:
            if len(_FOLDS) >= _MAX_FOLDS:  # per-message headers (To, Message-ID) pass through
                _FOLDS.clear()
            folded = _FOLDS[key] = bytes(super().fold_binary(name, value))
        return folded


_FOLDS: dict[tuple[Any, ...], bytes] = {}
_MAX_FOLDS = 4096


# refold_source="none": headers stored raw (List-Unsubscribe, DKIM-Signature) are sent exactly as
# given. Folding them would turn a long URL into RFC 2047 encoded words and break it.
POLICY = _FoldOnce(linesep="\r\n", header_factory=_HeaderClasses(), refold_source="none")


@dataclass(frozen=True)
class _Fixed:
    """Headers every message from one configuration shares, parsed once (they are immutable)."""

    sender: BaseHeader
    list_id: BaseHeader
    one_click: BaseHeader
    mime_version: BaseHeader
    alternative: BaseHeader  # with this process's BOUNDARY
    plain: BaseHeader
    html: BaseHeader
    seven_bit: BaseHeader
    base64: BaseHeader
    domain: str


@lru_cache(maxsize=8)
def _fixed(mail_from: str, list_id: str) -> _Fixed:
    make = POLICY.header_factory
    sender = make("From", mail_from)
    addresses: tuple[Address, ...] = sender.addresses
    return _Fixed(
        sender=sender,
        list_id=make("List-Id", list_id),
        one_click=make("List-Unsubscribe-Post", ONE_CLICK),
        mime_version=make("MIME-Version", "1.0"),
        alternative=make("Content-Type", f'multipart/alternative; boundary="{BOUNDARY}"'),
        plain=make("Content-Type", 'text/plain; charset="utf-8"'),
        html=make("Content-Type", 'text/html; charset="utf-8"'),
        seven_bit=make("Content-Transfer-Encoding", "7bit"),
        base64=make("Content-Transfer-Encoding", "base64"),
        # The From domain names Message-IDs; make_msgid would otherwise look up our FQDN each time.
        domain=(addresses[0].domain if addresses else "") or "localhost",
    )


def build_message(
    rendered: Rendered,
    *,
    to: str,
    settings: Settings,
    unsubscribe_url: str | None,
    message_id: str | None = None,
) -> EmailMessage:
    """Assemble headers and a text+html multipart/alternative; sign it when DKIM is set up."""
    fixed = _fixed(settings.mail_from, settings.list_id)
    message = EmailMessage(policy=POLICY)
    message["From"] = fixed.sender
    message["To"] = to
    message["Subject"] = rendered.subject
    message["Date"] = _date(int(time.time()))
    message["Message-ID"] = message_id or make_msgid(domain=fixed.domain)
    message["List-Id"] = fixed.list_id
    if unsubscribe_url:
        message.set_raw("List-Unsubscribe", f"<{_one_line(unsubscribe_url)}>")
        message["List-Unsubscribe-Post"] = fixed.one_click
    message["MIME-Version"] = fixed.mime_version
    if BOUNDARY in rendered.text or BOUNDARY in rendered.html:  # random: only if quoted on purpose
        message["Content-Type"] = "multipart/alternative"  # the generator picks another
    else:
        message["Content-Type"] = fixed.alternative
    # Parts are MIMEParts (no MIME-Version of their own); typeshed types attach() too narrowly.
    message.attach(_part(rendered.text, fixed.plain, fixed))  # type: ignore[arg-type]
    message.attach(_part(rendered.html, fixed.html, fixed))  # type: ignore[arg-type]
    if settings.dkim_domain and settings.dkim_selector and settings.dkim_private_key_file:
        _sign(message, settings)
    return message


@lru_cache(maxsize=2)
def _date(second: int) -> BaseHeader:
    """The Date header for this second, parsed once however many messages go out in it."""
    return POLICY.header_factory("Date", datetime.fromtimestamp(second, UTC))


def _part(content: str, content_type: BaseHeader, fixed: _Fixed) -> MIMEPart:
    """One body part: 7bit when it can travel as is, else base64 (UTF-8 text, encoded in C)."""
    part = MIMEPart(policy=POLICY)
    part["Content-Type"] = content_type
    if not content.endswith("\n"):
        content += "\n"
    if content.isascii() and max(map(len, content.split("\n"))) <= MAX_LINE:
        part["Content-Transfer-Encoding"] = fixed.seven_bit
        part.set_payload(content)
    else:
        part["Content-Transfer-Encoding"] = fixed.base64
        part.set_payload(base64.encodebytes(content.encode("utf-8")).decode("ascii"))
    return part


def _sign(message: EmailMessage, settings: Settings) -> None:
    """Add a DKIM-Signature over the identity and List-* headers, folded as dkimpy made it."""
    assert settings.dkim_private_key_file is not None
    present = [name.encode() for name in SIGNED_HEADERS if name in message]
    key = _private_key(settings.dkim_private_key_file)
    try:
        header = dkim.sign(
            message.as_bytes(),
            settings.dkim_selector.encode(),
            settings.dkim_domain.encode(),
            key,
            include_headers=present,
        )
    except dkim.DKIMException as exc:
        raise ConfigError(f"dkim_private_key_file: cannot sign with this key: {exc}") from None
    name, _, value = header.decode("ascii").partition(":")
    message.set_raw(name, value.strip())


@lru_cache(maxsize=8)
def _private_key(path: Path) -> bytes:
    """Read the DKIM key once; a missing or unreadable file is a configuration error."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"dkim_private_key_file: cannot read {path}: {exc}") from None


def _one_line(value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError("header values may not contain CR or LF")
    return value
