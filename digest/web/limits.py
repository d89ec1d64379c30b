"""Rate limits (Flask-Limiter): per IP on the forms that send email, and per address."""

from __future__ import annotations

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse
from werkzeug.exceptions import TooManyRequests

from digest.config import Settings
from digest.store.subscribers import email_hash

# Emails to one address per hour, whoever asks; the store adds a resend window on top.
ADDRESS_LIMIT = "5/hour"
LIMITED_FORMS = ("subscribe.submit", "subscribe.manage")


def install(app: Flask, settings: Settings) -> Limiter:
    """Attach the limiter and the per-IP limits (after the blueprints are registered)."""
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=settings.rate_limit_storage,
        default_limits=[],
    )
    per_ip = limiter.limit(settings.subscribe_rate_limit, methods=["POST"])
    for endpoint in LIMITED_FORMS:
        app.view_functions[endpoint] = per_ip(app.view_functions[endpoint])  # type: ignore[assignment]
    app.extensions["digest.limiter"] = limiter
    return limiter


def limit_address(kind: str, address: str) -> None:
    """Count a request about one address; 429 past ADDRESS_LIMIT (the address is hashed)."""
    limiter: Limiter = current_app.extensions["digest.limiter"]
    if not limiter.enabled:
        return
    if not limiter.limiter.hit(parse(ADDRESS_LIMIT), "digest-address", kind, email_hash(address)):
        raise TooManyRequests()
