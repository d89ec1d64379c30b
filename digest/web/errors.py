"""Friendly error pages (never a traceback) and the security headers of every response."""

from __future__ import annotations

import logging
import secrets

from flask import Flask, Response, current_app, g, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

TITLES = {
    400: "That request did not work",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    410: "This link no longer works",
    413: "Too much at once",
    429: "Slow down a little",
    500: "Something went wrong on our side",
}
DEFAULT_TEXT = {
    403: "You cannot do that here.",
    404: "There is nothing at this address.",
    429: "Too many requests in a short time. Please wait a few minutes and try again.",
    500: "We could not finish your request. Nothing was lost; please try again later.",
}
CSRF_TEXT = "This form has expired (or cookies are blocked). Reload the page and try again."


def install(app: Flask) -> None:
    """Register the error pages and the headers hook."""
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
    app.before_request(_make_nonce)
    app.after_request(_security_headers)


def error_page(code: int, text: str | None = None) -> tuple[str, int]:
    """Render the friendly page for an HTTP status."""
    title = TITLES.get(code, "That did not work")
    message = text or DEFAULT_TEXT.get(code, "Please check the address and try again.")
    return render_template("web/error.html", code=code, title=title, message=message), code


def _csrf_error(exc: CSRFError) -> tuple[str, int]:
    return error_page(400, CSRF_TEXT)


def _http_error(exc: HTTPException) -> tuple[str, int] | HTTPException:
    if exc.code is None or exc.code < 400:
        return exc
    # Our own aborts carry a message for people; library defaults and limiter details do not.
    own = exc.description != type(exc).description and exc.code not in (429, 500)
    text = exc.description if own else None
    return error_page(exc.code, text)


def _unexpected(exc: Exception) -> tuple[str, int]:
    log.error("unhandled error on %s %s", request.method, request.path, exc_info=exc)
    return error_page(InternalServerError.code)


def _make_nonce() -> None:
    g.csp_nonce = secrets.token_urlsafe(16)


def _security_headers(response: Response) -> Response:
    nonce = g.get("csp_nonce", "")
    policy = (
        "default-src 'self'; img-src 'self' data: https:; "
        f"style-src 'self' 'nonce-{nonce}'; script-src 'self' 'nonce-{nonce}'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )
    response.headers.setdefault("Content-Security-Policy", policy)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers.setdefault("Cache-Control", "no-store")
    if current_app.config.get("SESSION_COOKIE_SECURE"):  # served over https (base_url)
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
    return response
