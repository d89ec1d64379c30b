"""Bench the email: render + inline + text + MIME per digest, against premailer per email."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from digest.bench import figure
from digest.config import Settings, load_settings
from digest.inline import premailer_transform
from digest.mailer import build_message
from digest.render import HTML_LIMIT, DigestContext, DigestItem, Rendered, Renderer

TARGET_MS = 1.0
TARGET_SPEEDUP = 20.0
BASE = "https://digest.example.org"
TOKEN = "eyJzIjoxMjM0NSwidiI6M30.Z0Ji8Q.mJ0p3qQ9d1Ew7xN0zGv2b8Ck5sU"


def sample_item(i: int, subscriber: int = 0) -> DigestItem:
    """A paper with the lengths real arXiv listings have (LaTeX, accents, long abstract)."""
    pid = f"2611.{i:05d}"
    token = f"{TOKEN}{subscriber}"
    return DigestItem(
        id=pid,
        title=f"$\\mathcal{{B}}$-Coder {i}: Value-Based Deep Reinforcement Learning for Synthesis",
        abs_url=f"https://arxiv.org/abs/{pid}",
        authors=["Zishun Yu", "Yunzhe Tao", "Liyu Chen", "Tao Sun", "Hongxia Yang", "Léa Moreau"],
        categories=["cs.LG", "cs.AI", "cs.PL"],
        published=date(2026, 11, 20),
        upvotes=40 + i if i % 2 else None,
        code_url=f"https://github.com/example/paper-{i}" if i % 3 == 0 else None,
        abstract="Program synthesis aims to create accurate, executable programs from problem "
        "specifications, specifically from natural language descriptions. We explore a "
        "value-based approach with a conservative Bellman operator and $\\alpha$-weighted "
        "replay, showing that it improves pass@1 on APPS while using a fraction of the compute "
        "of policy-gradient baselines, and we release code and checkpoints.",
        reasons=["matches: program synthesis, reinforcement learning", f"{40 + i} upvotes"],
        more_url=f"{BASE}/f/{token}/{pid}/up",
        less_url=f"{BASE}/f/{token}/{pid}/down",
    )


def sample_context(papers: int = 10, subscriber: int = 0) -> DigestContext:
    """One subscriber's digest of `papers` sample papers."""
    token = f"{TOKEN}{subscriber}"
    return DigestContext(
        email=f"reader{subscriber}@example.com",
        edition=date(2026, 11, 23),
        items=[sample_item(i, subscriber) for i in range(papers)],
        considered=812,
        near_misses=[],
        preferences_url=f"{BASE}/preferences/{token}",
        view_url=f"{BASE}/d/{token}",
        unsubscribe_url=f"{BASE}/u/{token}",
    )


def _median_ms(step: Callable[[DigestContext], Any], contexts: list[DigestContext]) -> float:
    times = []
    for ctx in contexts:
        started = time.perf_counter()
        step(ctx)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _mime(rendered: Rendered, ctx: DigestContext, settings: Settings) -> None:
    build_message(rendered, to=ctx.email, settings=settings, unsubscribe_url=ctx.unsubscribe_url)


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Median per-digest cost of the inlined path and of premailer per email, same run."""
    settings = load_settings(mail_from="digest <digest@example.org>", dkim_domain="")
    fast, bare = Renderer(), Renderer(inline=False)
    contexts = [sample_context(10, subscriber=s) for s in range(50)]
    rounds = 4 if quick else 20

    def inlined(ctx: DigestContext) -> None:
        _mime(fast.digest(ctx), ctx, settings)

    def naive(ctx: DigestContext) -> None:
        rendered = bare.digest(ctx)
        html = premailer_transform(rendered.html)
        _mime(Rendered(rendered.subject, rendered.text, html), ctx, settings)

    _median_ms(inlined, contexts[:5])  # warm caches and Jinja's compiled templates
    fast_ms = _median_ms(inlined, contexts * rounds)
    naive_ms = _median_ms(naive, contexts[: 10 if quick else 50])
    speedup = naive_ms / fast_ms
    worst = len(fast.digest(sample_context(50)).html.encode())
    return [
        figure(
            "render+inline+text+MIME per digest (10 papers, median)",
            fast_ms,
            "ms",
            f"<= {TARGET_MS} ms",
            naive_ms,
            fast_ms <= TARGET_MS,
        ),
        figure(
            "speedup over premailer per email",
            speedup,
            "x",
            f">= {TARGET_SPEEDUP:.0f}x",
            1.0,
            speedup >= TARGET_SPEEDUP,
        ),
        figure(
            "HTML size of a 50-paper digest",
            worst / 1000,
            "KB",
            f"<= {HTML_LIMIT // 1000} KB",
            None,
            worst <= HTML_LIMIT,
        ),
    ]
