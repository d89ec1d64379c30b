"""The list of paper sources (config/sources.toml): what to fetch, from where, and what to keep.

[[source]]
name = "arxiv-ml"             # unique; names the source in logs and `digest status`
kind = "arxiv_listing"        # arxiv_listing | arxiv_api | huggingface | rss
categories = ["cs.LG", "cs.CL"]
announce_types = ["new", "cross", "replace", "replace-cross"]
"""

from __future__ import annotations

import tomllib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from digest.config import ConfigError

Kind = Literal["arxiv_listing", "arxiv_api", "huggingface", "rss"]
AnnounceType = Literal["new", "cross", "replace", "replace-cross"]
ARXIV_API = "http://export.arxiv.org/api/query"
HF_DAILY = "https://huggingface.co/api/daily_papers?date={date}&limit=100"
FORMATS = {"arxiv_listing": None, "arxiv_api": "arxiv-api", "huggingface": "hf-daily", "rss": None}


class Source(BaseModel):
    """One configured source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100)
    kind: Kind
    url: str | None = None
    categories: list[str] = Field(default_factory=list)
    announce_types: list[AnnounceType] = ["new", "cross", "replace", "replace-cross"]
    feed: Literal["rss", "atom"] = "rss"
    days: int = Field(2, ge=1, le=31)  # arxiv_api: days back; huggingface: today and before
    page_size: int = Field(200, ge=1, le=2000)
    max_items: int = Field(2000, ge=1, le=30000)
    enabled: bool = True

    @model_validator(mode="after")
    def _needs_a_place(self) -> Source:
        if self.kind in ("arxiv_listing", "arxiv_api") and not (self.url or self.categories):
            raise ValueError(f"{self.kind} needs `categories` (or a `url`)")
        if self.kind == "rss" and not self.url:
            raise ValueError("rss needs a `url`")
        return self

    @property
    def format(self) -> str | None:
        """The parser format for this source's bytes (None: detect)."""
        return FORMATS[self.kind]

    def listing_url(self) -> str:
        """Return the listing feed URL of an arxiv_listing source."""
        return self.url or f"https://rss.arxiv.org/{self.feed}/{'+'.join(self.categories)}"

    def daily_url(self, now: datetime) -> str:
        """Return the daily-papers URL for the UTC date of `now`."""
        return (self.url or HF_DAILY).format(date=now.date().isoformat())

    def api_url(self, now: datetime, start: int) -> str:
        """Return one page of the API's newest submissions in the categories over `days`."""
        if self.url:
            joiner = "&" if "?" in self.url else "?"
            return f"{self.url}{joiner}start={start}&max_results={self.page_size}"
        first = (now - timedelta(days=self.days)).strftime("%Y%m%d0000")
        cats = "+OR+".join(f"cat:{quote(c)}" for c in self.categories)
        query = f"({cats})+AND+submittedDate:[{first}+TO+{now:%Y%m%d%H%M}]"
        return (
            f"{ARXIV_API}?search_query={query}&sortBy=submittedDate&sortOrder=descending"
            f"&start={start}&max_results={self.page_size}"
        )

    def urls(self, now: datetime) -> list[str]:
        """Return what a fetch of a feed source asks for: one feed, or `days` of daily papers."""
        if self.kind == "huggingface":
            return [self.daily_url(now - timedelta(days=n)) for n in range(self.days)]
        return [self.plain_url(now)]

    def plain_url(self, now: datetime) -> str:
        """Return the first URL fetched for this source (for display and state)."""
        if self.kind == "arxiv_listing":
            return self.listing_url()
        if self.kind == "huggingface":
            return self.daily_url(now)
        if self.kind == "arxiv_api":
            return self.api_url(now, 0)
        return self.url or ""


def lookup_url(ids: list[str], base: str = ARXIV_API) -> str:
    """Return the API query for these arXiv ids (at most a few hundred per request)."""
    return f"{base}?id_list={','.join(quote(i) for i in ids)}&max_results={len(ids)}"


def load_sources(path: Path) -> list[Source]:
    """Read the enabled sources from `path`; a missing file means no sources."""
    if not path.exists():
        return []
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    sources = [_source(path, n, raw) for n, raw in enumerate(data.get("source", []), start=1)]
    names = [s.name for s in sources]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"{path}: source names must be unique; repeated: {', '.join(duplicates)}")
    return [s for s in sources if s.enabled]


def _source(path: Path, number: int, raw: Any) -> Source:
    label = f"{path}: source {number}" + (f" ({raw.get('name')})" if isinstance(raw, dict) else "")
    try:
        return Source.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(_problem(error) for error in exc.errors())
        raise ConfigError(f"{label}: {problems}") from None


def _problem(error: Any) -> str:
    key = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        return f"unknown key {key!r}"
    return f"{key}: {error['msg']}" if key else str(error["msg"]).removeprefix("Value error, ")
