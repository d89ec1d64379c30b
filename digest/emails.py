"""Email addresses: one place that decides what an acceptable, normalized address is."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

MAX_LENGTH = 254  # RFC 5321 path limit minus the angle brackets


class InvalidEmail(ValueError):
    """The address cannot be used; the message is written for the person who typed it."""


def normalize_email(raw: str) -> str:
    """Return the canonical form of an address (case-folded), or raise InvalidEmail."""
    text = (raw or "").strip()
    if not text:
        raise InvalidEmail("Please enter your email address.")
    if any(ch in text for ch in "\r\n\0"):
        raise InvalidEmail("An email address cannot contain line breaks.")
    if len(text) > MAX_LENGTH:
        raise InvalidEmail(f"That address is too long (at most {MAX_LENGTH} characters).")
    try:
        valid = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(f"That does not look like an email address: {exc}") from None
    # Mailbox names are case-insensitive in practice; folding keeps one row per person.
    return valid.normalized.lower()
