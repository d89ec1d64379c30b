"""Operator endpoints: /healthz, and in dev mode an inbox of the local SMTP server's messages."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

from flask import Blueprint, Response, abort, jsonify, render_template, send_from_directory
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from digest.web.state import state

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 when the database answers, 503 otherwise."""
    try:
        with state().engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return jsonify({"status": "unavailable", "database": "unreachable"}), 503
    return jsonify({"status": "ok"}), 200


@bp.get("/dev/inbox")
def inbox() -> str:
    """List the messages in outbox/ (dev mode only), newest first."""
    directory = _outbox()
    files = sorted(directory.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True)
    return render_template("web/dev_inbox.html", messages=[_summary(p) for p in files[:200]])


@bp.get("/dev/inbox/<name>")
def message(name: str) -> Response:
    """One message's HTML part (or its raw source), served from outbox/ only."""
    directory = _outbox()
    response = send_from_directory(directory, name)
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


def _outbox() -> Path:
    if not state().dev:
        abort(404)
    return Path(state().settings.outbox_dir).resolve()


def _summary(path: Path) -> dict[str, str]:
    with path.open("rb") as handle:
        msg = email.message_from_binary_file(handle, policy=email.policy.default)
    html = path.with_suffix(".html")
    return {
        "subject": str(msg.get("Subject", "")),
        "to": str(msg.get("To", "")),
        "date": str(msg.get("Date", "")),
        "eml": path.name,
        "html": html.name if html.exists() else "",
    }
