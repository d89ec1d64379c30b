"""Render each email kind as a subject/text/html triplet from templates fed plain data.

The HTML carries its CSS inline without running premailer per email (see `digest.inline`), is
pure ASCII (non-ASCII as character references, so it travels as 7bit) and stays under
`HTML_LIMIT` whatever the paper count: beyond `FULL_CARDS` papers lose their abstract, and if that
is not enough the rest are left to the view-in-browser page. A paper's own markup is the same in
every digest, so it is rendered once per Renderer and only the per-subscriber parts per email.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template
from markupsafe import Markup

from digest import cards
from digest.inline import InlineStyles, Styles, bare_styles, inlined_styles

DEFAULT_TEMPLATE_DIR = Path(__file__).parent.parent / "templates"
KINDS = ("digest", "confirm", "manage-link")
HTML_LIMIT = 90_000  # bytes; Gmail clips messages at about 102 KB
FULL_CARDS = 20  # papers shown with their abstract in the HTML part
MAX_NEAR_MISSES = 5


@dataclass
class DigestItem:
    """One paper as the pipeline hands it to the renderer."""

    id: str
    title: str
    abs_url: str
    authors: list[str]
    categories: list[str]
    published: date | None
    upvotes: int | None
    code_url: str | None
    abstract: str
    reasons: list[str]
    more_url: str
    less_url: str


@dataclass
class DigestContext:
    """Everything one subscriber's digest shows."""

    email: str
    edition: date
    items: list[DigestItem]
    considered: int
    near_misses: list[DigestItem]  # shown when items is empty
    preferences_url: str
    view_url: str
    unsubscribe_url: str
    cadence: str = "daily"


@dataclass
class Rendered:
    """One message, ready for `mailer.build_message`."""

    subject: str
    text: str
    html: str


class Renderer:
    """Load the templates and the inlined styles once; render many messages."""

    def __init__(self, template_dir: Path | None = None, *, inline: bool = True) -> None:
        self.template_dir = template_dir or DEFAULT_TEMPLATE_DIR
        css = (self.template_dir / "email" / "email.css").read_text(encoding="utf-8")
        self.styles: Styles = inlined_styles(css) if inline else bare_styles(css)
        html, text = _environments(self.template_dir, self.styles)
        self._templates: dict[str, tuple[Template, Template, Template]] = {
            kind: (
                text.get_template(f"email/{kind}.subject.txt"),
                text.get_template(f"email/{kind}.txt"),
                html.get_template(f"email/{kind}.html"),
            )
            for kind in KINDS
        }
        paper_html = html.get_template("email/_paper.html")
        paper_text = text.get_template("email/_paper.txt")
        # Per Renderer, not global: each template directory renders papers its own way.
        self._paper_html = lru_cache(maxsize=4096)(
            lambda p, full: Markup(paper_html.render(p=p, full=full).strip())
        )
        self._paper_text = lru_cache(maxsize=4096)(lambda p: paper_text.render(p=p).rstrip())

    def digest(self, ctx: DigestContext) -> Rendered:
        """Render one subscriber's digest."""
        shown = [cards.card(item) for item in ctx.items]
        misses = [] if shown else [cards.card(i) for i in ctx.near_misses[:MAX_NEAR_MISSES]]
        data: dict[str, Any] = {
            "ctx": ctx,
            "cards": shown,
            "misses": misses,
            "edition": cards.long_date(ctx.edition),
            "period": "Weekly" if ctx.cadence == "weekly" else "Daily",
            "header": cards.header(ctx.considered, len(shown), ctx.cadence),
        }
        subject_t, text_t, html_t = self._templates["digest"]
        subject = data["subject"] = _one_line(subject_t.render(data))
        data["preheader"] = cards.preheader(shown, misses)
        text = text_t.render(data, rows=[(self._paper_text(c.paper), c) for c in shown or misses])
        return Rendered(subject, text, self._fit(html_t, data))

    def message(self, kind: str, **context: Any) -> Rendered:
        """Render a transactional message: "confirm" (confirm_url) or "manage-link" (manage_url)."""
        if kind not in KINDS or kind == "digest":
            raise ValueError(f"unknown message kind {kind!r}")
        subject_t, text_t, html_t = self._templates[kind]
        return Rendered(
            _one_line(subject_t.render(context)),
            text_t.render(context),
            _ascii(html_t.render(context)),
        )

    def _fit(self, template: Template, data: dict[str, Any]) -> str:
        """Render the HTML, shedding abstracts and then papers until it fits HTML_LIMIT."""
        shown: list[cards.Card] = data["cards"]
        full, kept = min(len(shown), FULL_CARDS), len(shown)
        misses = [(self._paper_html(c.paper, True), c) for c in data["misses"]]
        while True:
            rows = [(self._paper_html(c.paper, i < full), c) for i, c in enumerate(shown[:kept])]
            html = _ascii(template.render(data, rows=rows + misses, hidden=len(shown) - kept))
            if len(html) <= HTML_LIMIT or kept <= 1:
                return html
            if full > 0:
                full //= 2
            else:
                kept = kept * 3 // 4


def _environments(template_dir: Path, styles: Styles) -> tuple[Environment, Environment]:
    """Jinja for the HTML (autoescaped, styles written in at load) and for the text parts."""
    options: dict[str, Any] = {
        "loader": FileSystemLoader(template_dir),
        "trim_blocks": True,
        "lstrip_blocks": True,
        "auto_reload": False,
        "undefined": StrictUndefined,
    }
    html = Environment(autoescape=True, extensions=[InlineStyles], **options)
    html.email_styles = styles  # type: ignore[attr-defined]
    text = Environment(autoescape=False, keep_trailing_newline=True, **options)
    return html, text


def _one_line(text: str) -> str:
    """Collapse whitespace, CR and LF included: a subject is one line."""
    return " ".join(text.split())


def _ascii(html: str) -> str:
    """Write non-ASCII characters as references so the part needs no transfer encoding."""
    return html.encode("ascii", "xmlcharrefreplace").decode("ascii")
