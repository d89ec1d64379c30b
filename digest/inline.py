"""Inline the email stylesheet once per process, not once per email.

Premailer costs about 11 ms per rendered digest. Because every inlined rule in
`templates/email/email.css` is a plain `.class` selector, the attributes premailer gives an
element depend only on its class. So premailer runs once over a tiny document holding one element
per class, and when a template is loaded its `{{ css("name") }}` placeholders become those
attributes as plain template text; `{{ stylesheet }}` becomes the `<style>` block premailer
leaves behind (the media queries, dark mode included). Rendering then costs nothing extra.
`tests/test_render.py` proves the result equals render-then-premailer on fixture digests.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache

import cssutils
import lxml.html
from jinja2 import Environment
from jinja2.ext import Extension
from markupsafe import Markup, escape
from premailer import Premailer

# allow_network=False: never fetch a <link> stylesheet. strip_important=False: the dark-mode
# rules in the kept <style> need their !important to beat the inline styles.
PREMAILER_OPTIONS: dict[str, object] = {
    "allow_network": False,
    "keep_style_tags": False,
    "strip_important": False,
    "remove_classes": False,
    "disable_validation": True,
    "cssutils_logging_level": logging.CRITICAL,
}
_CLASS_SELECTOR = re.compile(r"^\.[A-Za-z][\w-]*$")
_CSS_CALL = re.compile(r"""\{\{-?\s*css\(\s*["']([\w-]+)["']\s*\)\s*-?\}\}""")
_STYLESHEET = re.compile(r"\{\{-?\s*stylesheet\s*-?\}\}")


class StylesheetError(ValueError):
    """The stylesheet uses a selector that cannot be inlined once per class."""


def premailer_transform(html: str) -> str:
    """Inline CSS the conventional way: premailer over one whole rendered document."""
    return str(Premailer(html, **PREMAILER_OPTIONS).transform(pretty_print=False))


@dataclass(frozen=True)
class Styles:
    """What `css(name)` writes for each class, and the CSS left in `<style>`."""

    attributes: dict[str, Markup]
    stylesheet: Markup

    def __call__(self, name: str) -> Markup:
        return self.attributes[name]

    def style_element(self) -> str:
        """The <style> element as premailer leaves it, or nothing when nothing is left."""
        return f"<style>{self.stylesheet}</style>" if self.stylesheet else ""


class InlineStyles(Extension):
    """Write `{{ css("name") }}` and `{{ stylesheet }}` into a template's source when it loads."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.extend(email_styles=None)

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        styles: Styles = getattr(self.environment, "email_styles")  # noqa: B009 (set by extend)

        def attributes(match: re.Match[str]) -> str:
            if match[1] not in styles.attributes:
                raise StylesheetError(f"{name}: email.css has no rule for class {match[1]!r}")
            return "{% raw %}" + styles(match[1]) + "{% endraw %}"

        source = _CSS_CALL.sub(attributes, source)
        return _STYLESHEET.sub(
            lambda _: "{% raw %}" + styles.style_element() + "{% endraw %}", source
        )


def class_names(css: str) -> list[str]:
    """List the styled classes; refuse selectors whose effect depends on context."""
    cssutils.log.setLevel(logging.CRITICAL)
    names: list[str] = []
    for rule in cssutils.parseString(css, validate=False):
        if rule.type != rule.STYLE_RULE:
            continue
        for selector in (part.strip() for part in rule.selectorText.split(",")):
            if not _CLASS_SELECTOR.match(selector):
                raise StylesheetError(
                    f"email.css: {selector!r} is not a single .class selector; put rules for "
                    "tags, descendants or pseudo-classes inside an @media block"
                )
            if selector[1:] not in names:
                names.append(selector[1:])
    return names


def bare_styles(css: str) -> Styles:
    """Styles that write only class names and the whole stylesheet: input for premailer."""
    names = class_names(css)
    attributes = {name: Markup(f'class="{escape(name)}"') for name in names}
    return Styles(attributes, Markup(css))


@lru_cache(maxsize=4)
def inlined_styles(css: str) -> Styles:
    """Run premailer once over one element per class and keep what it produced (once per CSS)."""
    names = class_names(css)
    body = "".join(f'<div class="{name}"></div>' for name in names)
    document = f"<html><head><style>{css}</style></head><body>{body}</body></html>"
    tree = lxml.html.document_fromstring(premailer_transform(document))
    attributes = {}
    for element in tree.body:
        attributes[element.get("class")] = Markup(
            " ".join(f'{key}="{escape(value)}"' for key, value in element.attrib.items())
        )
    kept = tree.head.find("style")
    return Styles(attributes, Markup(kept.text if kept is not None else ""))
