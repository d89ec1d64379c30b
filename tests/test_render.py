"""The emails: inlined CSS equals premailer's, escaping, readable text, a bounded size."""

from __future__ import annotations

import json
import random
import re
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from lxml import etree

from digest.inline import StylesheetError, premailer_transform
from digest.render import HTML_LIMIT, DigestContext, DigestItem, Rendered, Renderer

FIXTURES = Path(__file__).parent / "data" / "email"
KINDS = sorted(path.stem for path in FIXTURES.glob("*.json"))


def load_context(name: str) -> DigestContext:
    """A DigestContext from tests/data/email/<name>.json."""
    data = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))

    def item(raw: dict[str, Any]) -> DigestItem:
        published = date.fromisoformat(raw["published"]) if raw["published"] else None
        return DigestItem(**{**raw, "published": published})

    return DigestContext(
        **{
            **data,
            "edition": date.fromisoformat(data["edition"]),
            "items": [item(raw) for raw in data["items"]],
            "near_misses": [item(raw) for raw in data["near_misses"]],
        }
    )


def fifty_papers() -> DigestContext:
    """The largest digest a subscriber can ask for, from the fixture papers."""
    ctx = load_context("ten-papers")
    items = [replace(ctx.items[i % 10], id=f"2611.{i:05d}") for i in range(50)]
    return replace(ctx, items=items)


def fifty_long_papers() -> DigestContext:
    """A worst case: 50 papers with long titles, abstracts, author lists and links."""
    ctx = load_context("ten-papers")
    long_url = ctx.preferences_url + "x" * 120
    items = [
        replace(
            ctx.items[i % 10],
            id=f"2611.{i:05d}",
            title="A Very Long Title About $\\mathcal{L}$-Smooth Optimisation " * 8,
            abstract="We study a long problem in great depth and detail. " * 40,
            authors=[f"Author With A Long Name {j}" for j in range(40)],
            categories=["cs.LG", "cs.AI", "stat.ML", "math.OC", "cs.CL", "cs.CV"],
            reasons=["matches: " + ", ".join(["optimisation"] * 20)] * 5,
            more_url=long_url + "/more",
            less_url=long_url + "/less",
            abs_url="https://arxiv.org/abs/" + "9" * 150,
            code_url="https://github.com/" + "c" * 150,
        )
        for i in range(50)
    ]
    return replace(ctx, items=items)


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


@pytest.fixture(scope="module")
def bare() -> Renderer:
    return Renderer(inline=False)


def dom(html: str) -> list[tuple[Any, ...]]:
    """The document as comparable nodes: tag, attributes (style normalized), text, tail."""
    tree = lxml.html.document_fromstring(html).getroottree()
    nodes: list[tuple[Any, ...]] = [("doctype", tree.docinfo.doctype)]
    for node in tree.getroot().iter():
        tag = "#comment" if node.tag is etree.Comment else node.tag
        attributes = {
            key: _style(value) if key == "style" else value for key, value in node.attrib.items()
        }
        nodes.append((tag, attributes, _space(node.text), _space(node.tail)))
    return nodes


def _style(value: str) -> list[str]:
    return [re.sub(r"\s*:\s*", ":", part.strip()) for part in value.split(";") if part.strip()]


def _space(text: str | None) -> str:
    return re.sub(r"[ \t\r\n]+", " ", text or "").strip()


def _rendered(renderer: Renderer, name: str) -> Rendered:
    if name == "confirm":
        return renderer.message("confirm", confirm_url="https://digest.example.org/confirm/t0k")
    if name == "manage-link":
        return renderer.message(
            "manage-link", manage_url="https://digest.example.org/preferences/t"
        )
    if name == "fifty":
        return renderer.digest(fifty_papers())
    return renderer.digest(load_context(name))


@pytest.mark.parametrize("name", [*KINDS, "fifty", "confirm", "manage-link"])
def test_inlined_render_equals_render_then_premailer(
    renderer: Renderer, bare: Renderer, name: str
) -> None:
    fast = _rendered(renderer, name).html
    naive = premailer_transform(_rendered(bare, name).html)
    assert dom(fast) == dom(naive)


def random_context(seed: int) -> DigestContext:
    """A digest assembled at random from the fixture papers, hostile ones included."""
    rng = random.Random(seed)
    pool = load_context("ten-papers").items + load_context("hostile").items
    items = [
        replace(rng.choice(pool), upvotes=rng.choice([None, 1, 99]))
        for _ in range(rng.randint(0, 14))
    ]
    misses = rng.sample(pool, rng.randint(0, 6))
    return replace(
        load_context("ten-papers"),
        items=items,
        near_misses=misses,
        cadence=rng.choice(["daily", "weekly"]),
        considered=rng.randint(0, 5000),
        email=rng.choice(["a@example.com", "<b>@example.com", "zoë@exämple.com"]),
    )


@pytest.mark.parametrize("seed", range(6))
def test_inlined_render_equals_premailer_on_random_digests(
    renderer: Renderer, bare: Renderer, seed: int
) -> None:
    ctx = random_context(seed)
    assert dom(renderer.digest(ctx).html) == dom(premailer_transform(bare.digest(ctx).html))


def test_every_styled_element_got_its_inline_style(renderer: Renderer) -> None:
    tree = lxml.html.document_fromstring(renderer.digest(load_context("ten-papers")).html)
    styled = tree.xpath("//body//*[@class]")
    assert len(styled) > 50
    assert all(element.get("style") for element in styled)


def test_dark_mode_media_query_is_kept_in_the_style_block(renderer: Renderer) -> None:
    html = renderer.digest(load_context("ten-papers")).html
    style = lxml.html.document_fromstring(html).head.find("style").text
    assert "@media (prefers-color-scheme: dark)" in style
    assert "!important" in style
    assert "max-width: 600px" in style


def test_titles_abstracts_and_authors_are_escaped(renderer: Renderer) -> None:
    out = renderer.digest(load_context("hostile"))
    assert "<script>" not in out.html
    assert "<img" not in out.html and "<b>" not in out.html
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in out.html
    assert "&lt;img src=x onerror=alert(1)&gt;" in out.html


def test_javascript_links_from_feeds_are_not_linked(renderer: Renderer) -> None:
    out = renderer.digest(load_context("hostile"))
    assert "javascript:" not in out.html
    assert "javascript:" not in out.text


def test_latex_in_titles_reads_as_unicode(renderer: Renderer) -> None:
    out = renderer.digest(load_context("ten-papers"))
    assert "𝓑-Coder" in out.subject
    assert "𝓑-Coder: Value-Based" in out.text
    assert "𝓑-Coder" in lxml.html.document_fromstring(out.html).text_content()
    assert "\\mathcal" not in out.text and "Energy-Based" in out.text


def test_subject_stays_one_line_when_a_title_carries_crlf(renderer: Renderer) -> None:
    out = renderer.digest(load_context("hostile"))
    assert "\r" not in out.subject and "\n" not in out.subject


def test_html_is_ascii_so_it_travels_as_7bit(renderer: Renderer) -> None:
    assert renderer.digest(load_context("ten-papers")).html.isascii()


def test_header_line_says_how_many_papers_were_considered(renderer: Renderer) -> None:
    out = renderer.digest(load_context("ten-papers"))
    assert "812 papers considered today, 10 picked for you." in out.text
    assert "812 papers considered today, 10 picked for you." in out.html


def test_weekly_digest_says_so(renderer: Renderer) -> None:
    out = renderer.digest(load_context("weekly"))
    assert out.subject.startswith("Weekly papers")
    assert "4,211 papers considered this week, 3 picked for you." in out.text


def test_quiet_day_says_nothing_cleared_the_bar_and_shows_near_misses(renderer: Renderer) -> None:
    out = renderer.digest(load_context("quiet-day"))
    assert "nothing cleared your bar" in out.subject
    for part in (out.text, out.html):
        assert "Nothing cleared your bar today." in part
        assert "Provably Efficient Exploration" in part
        assert "Scaling Laws for Sparse Mixture-of-Experts" in part


def test_each_paper_has_its_links_reasons_and_details(renderer: Renderer) -> None:
    ctx = load_context("ten-papers")
    out = renderer.digest(ctx)
    links = lxml.html.document_fromstring(out.html).xpath("//a/@href")
    for item in ctx.items:
        assert {item.abs_url, item.more_url, item.less_url} <= set(links)
        assert item.more_url in out.text and item.less_url in out.text
    assert "https://github.com/example/b-coder" in links
    assert "Why: matches: program synthesis, reinforcement learning; 212 upvotes" in out.text
    assert "cs.LG, cs.AI, cs.PL · 20 Nov 2026 · 212 upvotes" in " ".join(out.text.split())


def test_long_author_lists_are_shortened_to_first_three_and_last(renderer: Renderer) -> None:
    out = renderer.digest(load_context("ten-papers"))
    assert "Aiko Tanaka, Bruno Álvarez, Chen Wei, … Jia Li ·" in out.text
    assert "Dmitri Ivanov" not in out.text


def test_abstracts_are_cut_at_a_word_boundary(renderer: Renderer) -> None:
    out = renderer.digest(load_context("ten-papers"))
    paragraphs = [" ".join(paragraph.split()) for paragraph in out.text.split("\n\n")]
    abstract = next(p for p in paragraphs if p.startswith("Program synthesis"))
    assert len(abstract) <= 300
    assert abstract.endswith("…") and not abstract.endswith(" …")


def test_text_part_wraps_lines_except_links(renderer: Renderer) -> None:
    text = renderer.digest(load_context("ten-papers")).text
    long = [line for line in text.splitlines() if len(line) > 76 and "https://" not in line]
    assert long == []


def test_footer_has_preferences_view_and_unsubscribe_links(renderer: Renderer) -> None:
    ctx = load_context("ten-papers")
    out = renderer.digest(ctx)
    for url in (ctx.preferences_url, ctx.view_url, ctx.unsubscribe_url):
        assert f'href="{url}"' in out.html
        assert url in out.text


def test_text_part_is_written_as_text_not_html(renderer: Renderer) -> None:
    text = renderer.digest(load_context("ten-papers")).text
    assert "<" not in text.replace("<script>", "") and "&amp;" not in text
    assert text.startswith("DAILY PAPER DIGEST · Mon 23 Nov 2026")


def test_html_stays_under_limit_with_fifty_long_papers(renderer: Renderer) -> None:
    ctx = fifty_long_papers()
    out = renderer.digest(ctx)
    assert len(out.html.encode()) <= HTML_LIMIT
    assert ctx.items[-1].more_url in out.text  # the text part keeps every paper


def test_papers_that_do_not_fit_are_left_to_the_browser_view(renderer: Renderer) -> None:
    ctx = fifty_long_papers()
    huge = [replace(item, more_url=item.more_url + "y" * 1500) for item in ctx.items]
    out = renderer.digest(replace(ctx, items=huge))
    assert len(out.html.encode()) <= HTML_LIMIT
    assert "more papers in this digest" in out.html and ctx.view_url in out.html


def test_confirm_and_manage_link_messages_carry_their_link(renderer: Renderer) -> None:
    confirm = renderer.message("confirm", confirm_url="https://digest.example.org/confirm/abc")
    manage = renderer.message("manage-link", manage_url="https://digest.example.org/preferences/x")
    assert confirm.subject == "Confirm your paper digest subscription"
    assert 'href="https://digest.example.org/confirm/abc"' in confirm.html
    assert "https://digest.example.org/confirm/abc" in confirm.text
    assert 'href="https://digest.example.org/preferences/x"' in manage.html
    assert "https://digest.example.org/preferences/x" in manage.text


def test_unknown_message_kind_is_refused(renderer: Renderer) -> None:
    with pytest.raises(ValueError, match="unknown message kind"):
        renderer.message("newsletter")


def test_stylesheet_with_descendant_selector_is_refused(tmp_path: Path) -> None:
    source = Path(__file__).parent.parent / "templates"
    (tmp_path / "email").mkdir()
    for path in (source / "email").iterdir():
        (tmp_path / "email" / path.name).write_bytes(path.read_bytes())
    css = tmp_path / "email" / "email.css"
    css.write_text(css.read_text() + "\n.card a { color: red; }\n")
    with pytest.raises(StylesheetError, match="'.card a'"):
        Renderer(tmp_path)


def test_paper_without_optional_details_still_renders(renderer: Renderer) -> None:
    ctx = load_context("ten-papers")
    bare = replace(ctx.items[0], authors=[], categories=[], published=None, upvotes=None,
                   code_url=None, abstract="", reasons=[])  # fmt: skip
    out = renderer.digest(replace(ctx, items=[bare], considered=1))
    assert "1 paper considered today, 1 picked for you." in out.text
    assert "Why:" not in out.text and "github.com" not in out.html


def test_one_upvote_is_singular(renderer: Renderer) -> None:
    ctx = load_context("ten-papers")
    out = renderer.digest(replace(ctx, items=[replace(ctx.items[0], upvotes=1)]))
    assert "· 1 upvote\n" in out.text


def test_renderers_share_the_inlined_styles(renderer: Renderer) -> None:
    assert Renderer().styles is renderer.styles


def test_bench_reports_its_figures_with_targets() -> None:
    from digest.bench_render import run

    figures = run(quick=True)
    assert [f["unit"] for f in figures] == ["ms", "x", "KB"]
    for figure in figures:
        assert set(figure) == {"name", "value", "unit", "target", "baseline", "ok"}
        assert figure["value"] > 0 and isinstance(figure["ok"], bool)
