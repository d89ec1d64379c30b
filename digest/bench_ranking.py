"""Ranking benchmark: many subscribers x a day's papers, top 10 with reasons.

Synthetic but shaped like real data: Zipf-distributed words, keyword phrases shared between
subscribers, some liked papers, followed authors, exclusions and already-sent ids. The large case
runs in a child process so its peak memory (RSS) is its own.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, overload

import numpy as np

from digest.bench import figure
from digest.ranking import Profile, rank, rank_chunks
from digest.ranking.items import Items
from digest.ranking.score import Scorer

PAPERS = 1_000
HISTORY = 2_000
SUBSCRIBERS = 100_000
LARGE = 1_000_000
LOOP_SAMPLE = 300
TOP = 10
NOW = datetime(2025, 1, 10, 12, 0)


@dataclass(slots=True)
class BenchPaper:
    id: str
    title: str
    abstract: str
    authors: list[str]
    categories: list[str] = field(default_factory=list)
    published: date | None = None
    upvotes: int | None = None


class World:
    """A reproducible day: vocabulary, papers, history and keyword phrases."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = np.random.default_rng(seed)
        self.words = [f"w{i}" for i in range(8_000)]
        self.weights = 1 / np.arange(1, len(self.words) + 1) ** 1.05
        self.weights /= self.weights.sum()
        self.authors = [f"Author {i} Name{i}" for i in range(3_000)]
        self.papers = [self._paper(f"2501.{i:05d}", i) for i in range(PAPERS)]
        self.history = [self._paper(f"2412.{i:05d}", i) for i in range(HISTORY)]
        self.phrases = [" ".join(self._words(int(self.rng.integers(1, 3)))) for _ in range(5_000)]

    def _words(self, n: int) -> list[str]:
        return [self.words[i] for i in self.rng.choice(len(self.words), n, p=self.weights)]

    def _paper(self, paper_id: str, i: int) -> BenchPaper:
        upvotes = int(self.rng.poisson(3)) if i % 4 == 0 else None
        authors = [self.authors[a] for a in self.rng.integers(0, len(self.authors), 3)]
        return BenchPaper(
            paper_id,
            " ".join(self._words(10)),
            " ".join(self._words(150)),
            authors,
            [f"cs.{'ABCDEFGHIJ'[i % 10]}"],
            date(2025, 1, 9),
            upvotes,
        )


class Profiles(Sequence[Profile]):
    """Subscribers made on demand, a slice at a time, as the pipeline would load them."""

    def __init__(self, world: World, count: int, start: int = 0) -> None:
        self.world, self.size, self.start = world, count, start

    def __len__(self) -> int:
        return self.size

    @overload
    def __getitem__(self, index: int) -> Profile: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Profile]: ...
    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self._make(i) for i in range(*index.indices(self.size))]
        return self._make(index)

    def _make(self, i: int) -> Profile:
        w, n = self.world, self.start + i
        kw = [w.phrases[(n * 7919 + j * 104729) % len(w.phrases)] for j in range(1 + n % 3)]
        liked = [w.history[(n * 31 + j) % HISTORY].id for j in range(n % 4)] if n % 3 == 0 else []
        authors = [w.authors[n % len(w.authors)]] if n % 10 == 0 else []
        return Profile(
            str(n),
            keywords=kw,
            liked=liked,
            authors=authors,
            exclude=[w.words[n % 50 + 200]] if n % 20 == 0 else [],
            categories=["cs.A"] if n % 5 == 0 else [],
            trending_weight=(n % 5) / 10,
        )


def sent_ids(world: World, count: int) -> list[list[str]]:
    """Every tenth subscriber already got two of today's papers (a re-run, or a second source)."""
    return [
        [world.papers[i % PAPERS].id, world.papers[(i * 7) % PAPERS].id + "v2"]
        if i % 10 == 0
        else []
        for i in range(count)
    ]


def time_ranking(world: World, count: int, *, prebuilt: bool = True) -> float:
    """Seconds to rank `count` subscribers.

    `prebuilt`: profiles exist before the clock starts (as loaded subscribers would) and one
    `rank()` call returns every result. Otherwise profiles are made slice by slice inside the
    timing and results dropped a chunk at a time (`rank_chunks`), which bounds memory.
    """
    sent = sent_ids(world, count)
    if prebuilt:
        profiles = Profiles(world, count)[:]
        started = time.perf_counter()
        rank(world.papers, profiles, history=world.history, top_k=TOP, exclude_ids=sent, now=NOW)
        return time.perf_counter() - started
    started = time.perf_counter()
    for _chunk in rank_chunks(
        world.papers,
        Profiles(world, count),
        history=world.history,
        top_k=TOP,
        exclude_ids=sent,
        now=NOW,
    ):
        pass
    return time.perf_counter() - started


def time_loop(world: World, sample: int) -> float:
    """Seconds per subscriber when each is scored on its own (no shared matrices or cache)."""
    scorer = Scorer(world.papers, world.history, now=NOW, upvote_velocity=None)
    profiles, excluded = Profiles(world, sample)[:], sent_ids(world, sample)
    started = time.perf_counter()
    for profile, sent in zip(profiles, excluded, strict=True):
        scorer.items = Items(scorer.features, scorer.topics, scorer.row_of, scorer.items.titles)
        scorer.rank([profile], top_k=TOP, exclude_ids=[sent])
    return (time.perf_counter() - started) / sample


def large_case(count: int) -> dict[str, float]:
    """Run the large case in this process; report seconds and peak RSS in MB.

    The peak adds this process's and its ranking workers' own peaks: an upper bound, since the
    pages a worker shares with this process since the fork count twice.
    """
    seconds = time_ranking(World(), count, prebuilt=False)
    who = (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    peaks = (resource.getrusage(whose).ru_maxrss for whose in who)
    return {"seconds": seconds, "peak_mb": sum(peaks) / 1024}


def run(quick: bool = False, scale: float | None = None) -> list[dict[str, Any]]:
    """All ranking figures; `scale` < 1 (or `quick`) shrinks the subscriber counts."""
    scale = scale if scale is not None else (0.01 if quick else 1.0)
    world = World()
    count = max(100, int(SUBSCRIBERS * scale))
    seconds = time_ranking(world, count)
    per_subscriber = time_loop(world, min(LOOP_SAMPLE, count))
    large = _child(max(1_000, int(LARGE * scale)))
    loop_total = per_subscriber * count
    return [
        _figure(
            f"rank {count:,} subscribers x {PAPERS:,} papers, top {TOP} + reasons",
            seconds,
            "s",
            5.0 * scale,
            loop_total,
        ),
        _figure(
            f"speed-up vs a per-subscriber loop ({LOOP_SAMPLE} sampled)",
            loop_total / seconds,
            "x",
            None,
            1.0,
            minimum=25.0,
        ),
        _figure(
            f"rank {int(LARGE * scale):,} subscribers",
            large["seconds"],
            "s",
            60.0 * scale,
            per_subscriber * LARGE * scale,
        ),
        _figure(
            f"peak memory ranking {int(LARGE * scale):,} subscribers (with its workers)",
            large["peak_mb"],
            "MB",
            1536.0,
            None,
        ),
    ]


def _figure(
    name: str,
    value: float,
    unit: str,
    maximum: float | None,
    baseline: float | None,
    minimum: float | None = None,
) -> dict[str, Any]:
    target = f"<= {maximum:g} {unit}" if maximum is not None else f">= {minimum:g} {unit}"
    ok = value <= maximum if maximum is not None else value >= (minimum or 0)
    return figure(name, value, unit, target, baseline, ok)


def _child(count: int) -> dict[str, float]:
    """The large case in a fresh interpreter, so the peak RSS is that case's alone."""
    code = f"import json, digest.bench_ranking as b; print(json.dumps(b.large_case({count})))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])
