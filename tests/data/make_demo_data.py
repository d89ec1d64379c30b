"""Build digest/demo_data/ (one sample listing day in the real formats) from seed papers.

Run from the repository root: python tests/data/make_demo_data.py SEED.jsonl
The output is committed; nothing reads the seed file at run time. Everything is deterministic:
ids, categories, announce types and author names come from each paper's position and text.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path
from xml.sax.saxutils import escape

OUT = Path(__file__).resolve().parents[2] / "digest" / "demo_data"
LISTING_DAY = "Fri, 14 Mar 2025 00:00:00 -0400"
FEED_CATEGORIES = "cs.LG+cs.CL+cs.CV+cs.AI+cs.RO+cs.SD+eess.AS+stat.ML"
SPEECH = r"\bspeech\b|\baudio\b|\bspeaker|\basr\b|text-to-speech|\bacoustic"
VISION = r"\bimage|\bvision|\bvisual|\bvideo|segmentation|diffusion model"
LANGUAGE = r"language model|\bllm|\btext\b|translation|\bnlp\b|question answering|\btoken"
THEORY = r"\bbayesian|\bkernel|\bconvergence|\bregret|generalization bound|\bstatistical"
RULES = [  # (pattern in title + abstract, categories in order of preference)
    (SPEECH, ["eess.AS", "cs.SD", "cs.CL"]),
    (r"\brobot|manipulation|locomotion", ["cs.RO", "cs.LG"]),
    (VISION, ["cs.CV", "cs.LG"]),
    (r"reinforcement|\bpolicy|\bpolicies|\breward|\bagent", ["cs.LG", "cs.AI"]),
    (LANGUAGE, ["cs.CL", "cs.LG"]),
    (THEORY, ["stat.ML", "cs.LG"]),
]
FIRST = """Ada Amara Ana Arjun Bo Chen Chiara Dmitri Elif Emeka Fatima Felix Hana Hiroshi Ines Ivan
Jia Jonas Kavya Kofi Lars Lea Lucia Mateo Mei Mina Nadia Nikhil Noor Olga Omar Pablo Priya Quentin
Rahul Rosa Sakura Samir Sofia Tariq Thu Uma Valentina Wei Xavier Yara Yusuf Zofia""".split()
LAST = """Abe Adeyemi Alvarez Bauer Becker Castillo Chandra Cohen Dang Dubois Eriksen Fischer Garcia
Gupta Haddad Hoang Ivanova Jensen Kato Khan Kim Kowalski Larsen Li Lopez Mensah Moreau Nakamura
Nguyen Novak Okafor Olsen Park Patel Petrov Quispe Rossi Sato Schmidt Silva Singh Tanaka Torres
Varga Wang Weber Yilmaz Zhang Zhou""".split()
KEYWORDS = [
    "diffusion models", "reinforcement learning", "speech recognition", "speech synthesis",
    "fine-tuning", "LoRA", "instruction tuning", "large language models", "RLHF", "transformers",
    "self-supervised learning", "vision-language models", "contrastive learning", "pre-training",
    "in-context learning", "knowledge distillation", "data augmentation", "benchmark",
    "parameter-efficient fine-tuning", "offline reinforcement learning", "retrieval", "robotics",
]  # fmt: skip


def digest_int(text: str) -> int:
    """A stable integer from text, so the output never depends on Python's hash seed."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16)


def categories(text: str) -> list[str]:
    found: list[str] = []
    for pattern, cats in RULES:
        if re.search(pattern, text, re.IGNORECASE):
            found.extend(c for c in cats if c not in found)
    return found[:4] or ["cs.LG"]


def authors(title: str, count: int | None) -> list[str]:
    seed = digest_int(title)
    count = count or 2 + seed % 5
    names = []
    for n in range(min(count, 12)):
        pick = digest_int(f"{title}/{n}")
        names.append(f"{FIRST[pick % len(FIRST)]} {LAST[(pick // 97) % len(LAST)]}")
    return names


def keywords(text: str) -> list[str]:
    lowered = text.lower()
    return [k for k in KEYWORDS if k.lower() in lowered][:5]


def rss_item(paper: dict, index: int) -> str:
    cats = paper["categories"]
    announce = "cross" if index % 9 == 4 else "new"
    description = f"arXiv:{paper['id']}v1 Announce Type: {announce} \nAbstract: {paper['abstract']}"
    lines = [
        "    <item>",
        f"      <title>{escape(paper['title'])}</title>",
        f"      <link>https://arxiv.org/abs/{paper['id']}</link>",
        f"      <description>{escape(description)}</description>",
        f'      <guid isPermaLink="false">oai:arXiv.org:{paper["id"]}v1</guid>',
        *(f"      <category>{c}</category>" for c in cats),
        f"      <pubDate>{LISTING_DAY}</pubDate>",
        f"      <arxiv:announce_type>{announce}</arxiv:announce_type>",
        "      <dc:rights>http://creativecommons.org/licenses/by/4.0/</dc:rights>",
        f"      <dc:creator>{escape(', '.join(paper['authors']))}</dc:creator>",
        "    </item>",
    ]
    return "\n".join(lines)


def rss(papers: list[dict]) -> str:
    head = f"""<?xml version='1.0' encoding='UTF-8'?>
<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/" \
xmlns:atom="http://www.w3.org/2005/Atom" xmlns:content="http://purl.org/rss/1.0/modules/content/" \
version="2.0">
  <channel>
    <title>{FEED_CATEGORIES} updates on arXiv.org</title>
    <link>http://rss.arxiv.org/rss/{FEED_CATEGORIES}</link>
    <description>{FEED_CATEGORIES} updates on the arXiv.org e-print archive.</description>
    <atom:link href="http://rss.arxiv.org/rss/{FEED_CATEGORIES}" rel="self" \
type="application/rss+xml"/>
    <docs>http://www.rssboard.org/rss-specification</docs>
    <language>en-us</language>
    <lastBuildDate>Fri, 14 Mar 2025 00:30:00 -0400</lastBuildDate>
    <managingEditor>rss-help@arxiv.org</managingEditor>
    <pubDate>{LISTING_DAY}</pubDate>
    <skipDays>
      <day>Saturday</day>
      <day>Sunday</day>
    </skipDays>
"""
    items = "\n".join(rss_item(p, i) for i, p in enumerate(papers))
    return f"{head}{items}\n  </channel>\n</rss>\n"


def hf_entry(paper: dict, index: int) -> dict:
    repo = index % 3 == 0
    last = paper["authors"][0].split()[-1].lower()
    slug = re.sub(r"[^a-z0-9]+", "-", paper["title"].lower()).strip("-")[:40].rstrip("-")
    entry = {
        "id": paper["id"],
        "authors": [{"_id": f"{digest_int(a):024x}"[:24], "name": a, "hidden": False}
                    for a in paper["authors"]],
        "publishedAt": "2025-03-13T17:00:00.000Z",
        "submittedOnDailyAt": "2025-03-14T02:00:00.000Z",
        "title": paper["title"],
        "summary": paper["abstract"],
        "upvotes": paper["upvotes"],
        "discussionId": f"{digest_int(paper['id']):024x}"[:24],
        "ai_keywords": keywords(paper["title"] + " " + paper["abstract"]),
    }  # fmt: skip
    if repo:
        entry["githubRepo"] = f"https://github.com/{last}-lab/{slug}"
        entry["githubStars"] = digest_int(slug) % 400
    return {
        "paper": entry,
        "publishedAt": "2025-03-14T02:00:00.000Z",
        "title": paper["title"],
        "thumbnail": f"https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/{paper['id']}.png",
        "numComments": digest_int(paper["id"]) % 4,
        "isAuthorParticipating": False,
    }


def build(seed: Path) -> None:
    rows = [json.loads(line) for line in seed.read_text().splitlines() if line.strip()]
    papers = []
    for index, row in enumerate(rows):
        text = f"{row['title']} {row['abstract']}"
        papers.append({
            "id": f"2503.{10100 + index * 3:05d}",
            "title": row["title"],
            "abstract": row["abstract"],
            "categories": categories(text),
            "authors": authors(row["title"], row.get("n_authors")),
            "upvotes": row.get("upvotes"),
        })  # fmt: skip
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "arxiv-cs.rss").write_text(rss(papers), encoding="utf-8")
    daily = [hf_entry(p, i) for i, p in enumerate(papers) if p["upvotes"] is not None]
    (OUT / "hf-daily-papers.json").write_text(json.dumps(daily, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(papers)} listing items and {len(daily)} daily papers to {OUT}")


if __name__ == "__main__":
    build(Path(sys.argv[1]))
