"""Turn a delivery row into the plain data a digest template needs, and into a message.

The pipeline (to send) and the web app (view in browser) build the same context from the same row.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

from digest.config import Settings
from digest.models import Delivery, Paper, Subscriber
from digest.render import DigestContext, DigestItem, Renderer
from digest.tokens import Links


def digest_context(
    subscriber: Subscriber,
    edition: date,
    items: list[dict[str, Any]],
    considered: int,
    papers: Mapping[str, Paper],
    links: Links,
) -> DigestContext:
    """Build the template context for one edition; papers missing from `papers` are dropped."""
    sid, version = subscriber.id, subscriber.token_version
    feedback = links.feedback_token(sid, version)
    picked: list[DigestItem] = []
    near: list[DigestItem] = []
    for item in items:
        paper = papers.get(item["id"])
        if paper is None:
            continue
        card = _item(paper, item.get("reasons", []), links, feedback)
        (near if item.get("near_miss") else picked).append(card)
    return DigestContext(
        email=subscriber.email,
        edition=edition,
        items=picked,
        considered=considered,
        near_misses=near,
        preferences_url=links.preferences(sid, version),
        view_url=links.view(sid, version, edition),
        unsubscribe_url=links.unsubscribe(sid, version),
        cadence=subscriber.cadence,
    )


def _item(paper: Paper, reasons: list[str], links: Links, feedback: str) -> DigestItem:
    return DigestItem(
        id=paper.id,
        title=paper.title,
        abs_url=paper.abs_url or f"https://arxiv.org/abs/{paper.id}",
        authors=list(paper.authors or []),
        categories=list(paper.categories or []),
        published=paper.published or paper.announced,
        upvotes=paper.upvotes,
        code_url=paper.code_url,
        abstract=paper.abstract or "",
        reasons=list(reasons),
        more_url=links.feedback(feedback, paper.id, "up"),
        less_url=links.feedback(feedback, paper.id, "down"),
    )


def message_id(settings: Settings, delivery: Delivery) -> str:
    """A Message-ID fixed per delivery, so a resend after a crash carries the same one."""
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "localhost"
    return f"<digest.{delivery.subscriber_id}.{delivery.edition:%Y%m%d}.{delivery.id}@{domain}>"


def digest_message(
    settings: Settings,
    renderer: Renderer,
    delivery: Delivery,
    subscriber: Subscriber,
    papers: Mapping[str, Paper],
    links: Links,
) -> EmailMessage:
    """Render and build the email for one delivery."""
    from digest.mailer import build_message

    context = digest_context(
        subscriber, delivery.edition, delivery.items, delivery.considered, papers, links
    )
    return build_message(
        renderer.digest(context),
        to=subscriber.email,
        settings=settings,
        unsubscribe_url=context.unsubscribe_url,
        message_id=message_id(settings, delivery),
    )
