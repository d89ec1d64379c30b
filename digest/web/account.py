"""My data: export everything held about me as JSON, or delete me for good."""

from __future__ import annotations

import json

from flask import Blueprint, Response, render_template, request

from digest.store import subscribers as store
from digest.web.state import now, session_scope, subscriber_from

bp = Blueprint("account", __name__, url_prefix="/account")

PURPOSES = ("account",)


@bp.get("/<token>")
def page(token: str) -> str:
    """Offer the export and the deletion."""
    with session_scope() as session:
        sub = subscriber_from(session, PURPOSES, token)
        return render_template("web/account.html", sub=sub, token=token, error=None)


@bp.get("/<token>/export")
def export(token: str) -> Response:
    """Everything we hold about the subscriber, as a JSON download."""
    with session_scope() as session:
        sub = subscriber_from(session, PURPOSES, token)
        data = store.export_subscriber(session, sub)
    body = json.dumps(data, indent=2, ensure_ascii=False)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="digest-my-data.json"'
    return response


@bp.post("/<token>/delete")
def delete(token: str) -> str | tuple[str, int]:
    """Delete the subscriber; only a hash of the address stays, so it is never mailed again."""
    with session_scope() as session:
        sub = subscriber_from(session, PURPOSES, token)
        if request.form.get("confirm") != "yes":
            error = "Tick the box to confirm that you want everything deleted."
            return render_template("web/account.html", sub=sub, token=token, error=error), 400
        store.delete_subscriber(session, sub, now())
    return render_template("web/deleted.html")
