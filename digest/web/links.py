"""The links in every digest: one-click unsubscribe, feedback on a paper, view in the browser."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, current_app, render_template
from werkzeug.exceptions import NotFound

from digest.compose import digest_context
from digest.render import Renderer
from digest.store import papers as paper_store
from digest.store import subscribers as store
from digest.web.state import local, now, read_token, session_scope, state, subscriber_from

bp = Blueprint("links", __name__)

FEEDBACK = {"up": 1, "down": -1, "undo": 0}
GONE_DIGEST = "This digest is no longer available."
VIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'none'"
)


@bp.get("/u/<token>")
def unsubscribe_page(token: str) -> str:
    """Ask before unsubscribing: mail scanners follow links and must not unsubscribe anyone."""
    with session_scope() as session:
        sub = subscriber_from(session, ("unsubscribe",), token)
        return render_template("web/unsubscribe.html", sub=sub, token=token, done=False)


@bp.post("/u/<token>")
def unsubscribe(token: str) -> str:
    """RFC 8058 one-click: no cookie or CSRF token needed, 200 without redirect, idempotent."""
    with session_scope() as session:
        sub = subscriber_from(session, ("unsubscribe",), token)
        store.unsubscribe(session, sub, now())
        return render_template("web/unsubscribe.html", sub=sub, token=token, done=True)


@bp.post("/u/<token>/resubscribe")
def resubscribe(token: str) -> str:
    """Undo an unsubscribe from the same link."""
    with session_scope() as session:
        sub = subscriber_from(session, ("unsubscribe",), token)
        store.resubscribe(session, sub, now())
        prefs = local(state().links.preferences(sub.id, sub.token_version))
        return render_template("web/resubscribed.html", sub=sub, preferences_url=prefs)


@bp.route("/f/<token>/<path:paper>/<any(up, down, undo):direction>", methods=["GET", "POST"])
def feedback(token: str, paper: str, direction: str) -> str:
    """GET shows one button; POST records "more/less like this" (or undoes it)."""
    from flask import request

    with session_scope() as session:
        sub = subscriber_from(session, ("feedback",), token)
        found = paper_store.papers_by_ids(session, [paper])
        title = found[0].title if found else paper
        recorded = request.method == "POST"
        if recorded:
            store.record_feedback(session, sub, paper, FEEDBACK[direction], now())
        return render_template(
            "web/feedback.html",
            token=token,
            paper=paper,
            title=title,
            direction=direction,
            recorded=recorded,
        )


@bp.get("/d/<token>")
def view(token: str) -> Response:
    """The digest in the browser, rebuilt from its delivery row."""
    claims = read_token(("view",), token)
    edition = _edition(claims.extra.get("e"))
    with session_scope() as session:
        sub = subscriber_from(session, ("view",), token)
        delivery = store.delivery_for(session, sub.id, edition)
        if delivery is None:
            raise NotFound(GONE_DIGEST)
        ids = [item["id"] for item in delivery.items]
        papers = {p.id: p for p in paper_store.papers_by_ids(session, ids)}
        context = digest_context(
            sub, edition, delivery.items, delivery.considered, papers, state().links
        )
    html = _renderer().digest(context).html
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = VIEW_POLICY
    return response


def _edition(value: object) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise NotFound(GONE_DIGEST) from None


def _renderer() -> Renderer:
    """One Renderer per app: it inlines the email styles once when made."""
    if "digest.renderer" not in current_app.extensions:
        current_app.extensions["digest.renderer"] = Renderer()
    return current_app.extensions["digest.renderer"]
