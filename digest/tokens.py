"""Signed links: one salt per purpose, key rotation, and revocation by token version.

A token carries the subscriber id and their token_version; bumping the version in the database
revokes every link issued before. Old secret keys stay valid for reading during a rotation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

# Purpose -> max age in seconds (None: no expiry, the token version revokes it).
PURPOSES: dict[str, int | None] = {
    "confirm": 3 * 24 * 3600,
    "manage": 24 * 3600,
    "preferences": None,
    "unsubscribe": None,
    "feedback": None,
    "view": None,
    "account": 24 * 3600,
}


class BadToken(Exception):
    """The link is forged, damaged, for another purpose, or revoked."""


class ExpiredToken(BadToken):
    """The link was genuine but is too old."""


@dataclass(frozen=True)
class Claims:
    """What a valid token says."""

    subscriber_id: int
    version: int
    extra: dict[str, Any]


class Tokens:
    """Make and read signed tokens for each purpose."""

    def __init__(self, secret_key: str, old_keys: Sequence[str] = ()) -> None:
        # itsdangerous signs with the last key and accepts all of them.
        keys = [*old_keys, secret_key]
        self._serializers = {  # made once: every digest signs several links
            purpose: URLSafeTimedSerializer(keys, salt=f"digest.{purpose}") for purpose in PURPOSES
        }

    def _serializer(self, purpose: str) -> URLSafeTimedSerializer:
        serializer = self._serializers.get(purpose)
        if serializer is None:
            raise ValueError(f"unknown token purpose {purpose!r}")
        return serializer

    def make(self, purpose: str, subscriber_id: int, version: int, **extra: Any) -> str:
        """Sign a token for one purpose."""
        return self._serializer(purpose).dumps({"s": subscriber_id, "v": version, **extra})

    def read(self, purpose: str, token: str) -> Claims:
        """Verify a token; raise ExpiredToken or BadToken."""
        try:
            data = self._serializer(purpose).loads(token, max_age=PURPOSES[purpose])
        except SignatureExpired as exc:
            raise ExpiredToken(f"this {purpose} link has expired") from exc
        except BadSignature as exc:
            raise BadToken(f"this {purpose} link is not valid") from exc
        if not isinstance(data, dict) or "s" not in data or "v" not in data:
            raise BadToken(f"this {purpose} link is not valid")
        extra = {k: v for k, v in data.items() if k not in ("s", "v")}
        return Claims(subscriber_id=int(data["s"]), version=int(data["v"]), extra=extra)


class Links:
    """Absolute URLs for the links in emails; the web app routes the same paths."""

    def __init__(self, base_url: str, tokens: Tokens) -> None:
        self.base = base_url.rstrip("/")
        self.tokens = tokens

    def unsubscribe(self, subscriber_id: int, version: int) -> str:
        return f"{self.base}/u/{self.tokens.make('unsubscribe', subscriber_id, version)}"

    def preferences(self, subscriber_id: int, version: int) -> str:
        return f"{self.base}/preferences/{self.tokens.make('preferences', subscriber_id, version)}"

    def confirm(self, subscriber_id: int, version: int) -> str:
        return f"{self.base}/confirm/{self.tokens.make('confirm', subscriber_id, version)}"

    def manage(self, subscriber_id: int, version: int) -> str:
        return f"{self.base}/preferences/{self.tokens.make('manage', subscriber_id, version)}"

    def view(self, subscriber_id: int, version: int, edition: date) -> str:
        token = self.tokens.make("view", subscriber_id, version, e=edition.isoformat())
        return f"{self.base}/d/{token}"

    def feedback_token(self, subscriber_id: int, version: int) -> str:
        """One token per subscriber per run; the paper and direction go in the path."""
        return self.tokens.make("feedback", subscriber_id, version)

    def feedback(self, token: str, paper_id: str, direction: str) -> str:
        return f"{self.base}/f/{token}/{paper_id}/{direction}"
