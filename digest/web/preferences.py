"""Edit a subscription: interests, seed papers, schedule, size and mix, with a live preview."""

from __future__ import annotations

from functools import cache
from typing import Any

from flask import Blueprint, current_app, jsonify, redirect, render_template, request
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from digest.editions import profile_for
from digest.models import Subscriber
from digest.store import subscribers as store
from digest.taxonomy import CATEGORY_IDS
from digest.web.categories import CategoryList
from digest.web.preview import preview, profile_with
from digest.web.state import local, now, session_scope, state, subscriber_from

bp = Blueprint("preferences", __name__, url_prefix="/preferences")

PURPOSES = ("preferences", "manage")
LIST_FIELDS = {"keywords": "keyword", "authors": "author", "exclude": "exclude"}
SETTING_FIELDS = (
    "timezone",
    "send_time",
    "cadence",
    "weekday",
    "max_papers",
    "trending_weight",
    "category_mode",
)


class FormErrors(Exception):
    """Some fields are invalid; `errors` maps field name to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("invalid form")
        self.errors = errors


def parse_form(form: MultiDict[str, str]) -> tuple[dict[str, list[str]], dict[str, Any]]:
    """Validate the form: (interests by kind, settings); raise FormErrors naming each bad field."""
    interests, values, errors = {}, {}, {}
    lists = {**LIST_FIELDS, "categories": "category"}
    for name, kind in lists.items():
        raw = form.getlist(name) if name == "categories" else [form.get(name, "")]
        try:
            interests[kind] = store.check_interests(kind, store.split_list(raw))
        except store.SubscriberError as exc:
            errors[name] = str(exc)
    unknown = set(interests.get("category", ())) - CATEGORY_IDS
    if unknown:
        errors["categories"] = f"Unknown arXiv categories: {', '.join(sorted(unknown))}."
    for name in SETTING_FIELDS:
        if name in form:
            try:
                values.update(store.check_settings({name: form[name]}))
            except store.SubscriberError as exc:
                errors[name] = str(exc)
    if errors:
        raise FormErrors(errors)
    return interests, values


@bp.get("/<token>")
def edit(token: str) -> str:
    """Show the preferences with today's preview."""
    with session_scope() as session:
        sub = subscriber_from(session, PURPOSES, token)
        return _page(session, sub, token, _current(sub), {})


@bp.post("/<token>")
def save(token: str) -> Response | tuple[str, int]:
    """Save every field at once (nothing is saved when one is invalid)."""
    with session_scope() as session:
        sub = subscriber_from(session, PURPOSES, token)
        try:
            interests, values = parse_form(request.form)
            seeds = store.split_list(request.form.get("seeds", ""))
            _apply(session, sub, interests, values, seeds)
        except (FormErrors, store.SubscriberError) as exc:
            session.rollback()
            errors = exc.errors if isinstance(exc, FormErrors) else {"seeds": str(exc)}
            return _page(session, sub, token, _submitted(request.form), errors), 400
    return redirect(f"{request.path}?saved=1", code=303)


def _apply(
    session: Session,
    sub: Subscriber,
    interests: dict[str, list[str]],
    values: dict[str, Any],
    seeds: list[str],
) -> None:
    for kind, items in interests.items():
        store.set_interests(session, sub, kind, items)
    store.update_settings(session, sub, **values)
    store.seed_papers(session, sub, seeds, now())


@bp.get("/<token>/preview")
def preview_json(token: str) -> Response | tuple[Response, int]:
    """The preview for unsaved form values (read-only, so a GET)."""
    with session_scope() as session:
        sub = subscriber_from(session, PURPOSES, token)
        try:
            interests, values = parse_form(request.args)
        except FormErrors as exc:
            return jsonify({"errors": exc.errors}), 400
        profile = _overlay(sub, session, interests, values)
        return jsonify(preview(state().previews, session, profile, now()))


def _overlay(
    sub: Subscriber, session: Session, interests: dict[str, list[str]], values: dict[str, Any]
) -> Any:
    changes: dict[str, Any] = {
        "keywords": interests["keyword"],
        "categories": interests["category"],
        "authors": interests["author"],
        "exclude": interests["exclude"],
    }
    for key in ("max_papers", "trending_weight", "category_mode"):
        if key in values:
            changes[key] = values[key]
    return profile_with(sub, session, changes)


def _current(sub: Subscriber) -> dict[str, Any]:
    kinds = store.interests_by_kind(sub)
    form: dict[str, Any] = {name: "\n".join(kinds[kind]) for name, kind in LIST_FIELDS.items()}
    return form | {"categories": kinds["category"], "seeds": ""} | store.settings_of(sub)


def _submitted(form: MultiDict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {
        key: form.get(key, "") for key in (*LIST_FIELDS, "seeds", *SETTING_FIELDS)
    }
    return values | {"categories": form.getlist("categories")}


def _page(
    session: Session, sub: Subscriber, token: str, form: dict[str, Any], errors: dict[str, str]
) -> str:
    links = state().links
    liked, disliked = store.feedback_of(session, [sub.id])[sub.id]
    profile = profile_for(sub, liked, disliked)
    account = state().tokens.make("account", sub.id, sub.token_version)
    return render_template(
        "web/preferences.html",
        sub=sub,
        form=form,
        errors=errors,
        token=token,
        categories=_category_list(),
        preview=preview(state().previews, session, profile, now()),
        liked=liked,
        disliked=disliked,
        unsubscribe_url=local(links.unsubscribe(sub.id, sub.token_version)),
        account_url=f"/account/{account}",
        saved=request.args.get("saved") == "1",
        welcome=request.args.get("welcome") == "1",
    )


@bp.get("/timezones.json")
def timezones() -> Response:
    """The IANA time zone names for the time zone field's suggestions (cached by browsers)."""
    response = jsonify(_timezones())
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def _category_list() -> CategoryList:
    extensions = current_app.extensions
    if "digest.categories" not in extensions:
        template = current_app.jinja_env.get_template("web/_category.html")
        extensions["digest.categories"] = CategoryList(template.render)
    return extensions["digest.categories"]


@cache
def _timezones() -> list[str]:
    from zoneinfo import available_timezones

    return sorted(name for name in available_timezones() if "/" in name or name == "UTC")
