"""Sign-up: the landing page, double opt-in, and the magic link to manage a subscription."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from digest.emails import InvalidEmail, normalize_email
from digest.store import subscribers as store
from digest.web.limits import limit_address
from digest.web.mailqueue import Outgoing
from digest.web.sample import SAMPLE_DIGEST
from digest.web.state import local, now, session_scope, state, subscriber_from

bp = Blueprint("subscribe", __name__)


@bp.get("/")
def index() -> str:
    """What digest is, a sample digest, and the subscribe form."""
    return render_template("web/index.html", sample=SAMPLE_DIGEST, form={}, errors={})


@bp.post("/subscribe")
def submit() -> tuple[str, int] | str:
    """Create a pending subscriber and queue the confirmation email; never reveal who exists."""
    form = {key: request.form.get(key, "") for key in ("email", "topics", "timezone")}
    try:
        address = normalize_email(form["email"])
        topics = store.check_interests("keyword", store.split_list(form["topics"]))
    except (InvalidEmail, store.SubscriberError) as exc:
        field = "email" if isinstance(exc, InvalidEmail) else "topics"
        errors = {field: str(exc)}
        page = render_template("web/index.html", sample=SAMPLE_DIGEST, form=form, errors=errors)
        return page, 400
    limit_address("subscribe", address)
    _subscribe(address, topics, form["timezone"])
    return render_template("web/check_inbox.html", email=address, action="subscribe")


def _subscribe(address: str, topics: list[str], timezone: str) -> None:
    """Store the request; queue the confirmation only once it is committed."""
    moment, email = now(), None
    try:
        with session_scope() as session:
            sub = store.create_subscriber(
                session,
                address,
                settings=state().settings,
                now=moment,
                keywords=topics,
                timezone=_valid_timezone(timezone),
            )
            created = sub.created_at is moment  # a new row carries this request's time
            if store.claim_confirmation(sub, moment, created=created):
                url = state().links.confirm(sub.id, sub.token_version)
                email = Outgoing("confirm", address, {"confirm_url": url}, sub.id)
    except store.Suppressed:
        return  # the same answer as for anyone else: nothing tells the visitor why
    except IntegrityError:
        return  # a simultaneous request for the same address created it and sends the email
    if email is not None:
        state().mail.put(email)


def _valid_timezone(name: str) -> str | None:
    try:
        return store.check_settings({"timezone": name})["timezone"]
    except store.SubscriberError:
        return None


@bp.get("/confirm/<token>")
def confirm_page(token: str) -> str:
    """Ask for a click: mail scanners fetch links, and must not confirm on someone's behalf."""
    with session_scope() as session:
        sub = subscriber_from(session, ("confirm",), token)
        return render_template("web/confirm.html", email=sub.email, status=sub.status)


@bp.post("/confirm/<token>")
def confirm(token: str) -> Response:
    """Activate the subscription and go straight to the preferences."""
    with session_scope() as session:
        sub = subscriber_from(session, ("confirm",), token)
        store.confirm(session, sub, now())
        target = state().links.preferences(sub.id, sub.token_version)
    return redirect(local(target) + "?welcome=1", code=303)


@bp.route("/manage", methods=["GET", "POST"])
def manage() -> tuple[str, int] | str:
    """Email a magic link to the preferences; the same answer for unknown addresses."""
    if request.method == "GET":
        return render_template("web/manage.html", form={}, errors={})
    form = {"email": request.form.get("email", "")}
    try:
        address = normalize_email(form["email"])
    except InvalidEmail as exc:
        return render_template("web/manage.html", form=form, errors={"email": str(exc)}), 400
    limit_address("manage", address)
    _send_manage_link(address)
    return render_template("web/check_inbox.html", email=address, action="manage")


def _send_manage_link(address: str) -> None:
    with session_scope() as session:
        sub = store.get_by_email(session, address)
        if sub is None or sub.status == "bounced":
            return
        url, ref = state().links.manage(sub.id, sub.token_version), sub.id
    state().mail.put(Outgoing("manage-link", address, {"manage_url": url}, ref))
