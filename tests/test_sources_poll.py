"""Fetching configured sources from a local server: per-source results, staleness, readiness."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from feedserver import FeedServer, Route
from sqlalchemy.orm import Session, sessionmaker

from digest.config import Settings
from digest.fetch import Fetcher
from digest.models import Paper
from digest.poll import fetch_all
from digest.readiness import source_readiness, sources_status
from digest.sources_config import load_sources

FEEDS = Path(__file__).parent / "data" / "feeds"
FRIDAY = datetime(2025, 3, 14, 11, 0, tzinfo=UTC)  # 07:00 EDT, the listing dated Friday is out
SATURDAY = datetime(2025, 3, 15, 11, 0, tzinfo=UTC)
MONDAY = datetime(2025, 3, 17, 11, 0, tzinfo=UTC)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        running.routes["/rss/cs.LG"] = Route(body=(FEEDS / "arxiv-cs.LG.rss").read_bytes())
        running.routes["/hf?date=2025-03-14"] = Route(
            body=(FEEDS / "hf-daily-papers.json").read_bytes()
        )
        running.routes["/hf?date=2025-03-13"] = Route(body=b"[]")
        running.routes["/api?q=x&start=0&max_results=2"] = Route(
            body=(FEEDS / "arxiv-api.atom").read_bytes(), etag=False
        )
        running.routes["/api?q=x&start=2&max_results=2"] = Route(
            body=(FEEDS / "arxiv-empty-api.atom").read_bytes(), etag=False
        )
        yield running


def configure(settings: Settings, server: FeedServer, extra: str = "") -> None:
    settings.sources_file.write_text(
        f"""
[[source]]
name = "arxiv-lg"
kind = "arxiv_listing"
url = "{server.url("/rss/cs.LG")}"

[[source]]
name = "hf"
kind = "huggingface"
url = "{server.url("/hf?date={date}")}"

[[source]]
name = "api"
kind = "arxiv_api"
url = "{server.url("/api?q=x")}"
page_size = 2
{extra}
"""
    )


def poll(settings: Settings, sessions: sessionmaker[Session], now: datetime) -> dict:
    with Fetcher(settings, backoff=0.01, attempts=2) as door:
        return fetch_all(settings, sessions, now, fetcher=door)


def test_each_source_is_fetched_and_one_paper_is_one_row(
    settings: Settings, sessions: sessionmaker[Session], server: FeedServer
) -> None:
    configure(settings, server)
    results = poll(settings, sessions, FRIDAY)
    assert [(r.name, r.ok) for r in results.values()] == [
        ("arxiv-lg", True),
        ("hf", True),
        ("api", True),
    ]
    assert (results["arxiv-lg"].new, results["hf"].new, results["api"].new) == (2, 1, 1)
    with sessions() as session:
        row = session.get(Paper, "2503.10001")
        assert row is not None and sorted(row.sources) == ["arxiv", "huggingface"]
        assert row.upvotes == 42 and row.comment == "12 pages, 4 figures"


def test_a_refetch_of_an_unchanged_feed_is_a_304_without_parsing(
    settings: Settings, sessions: sessionmaker[Session], server: FeedServer
) -> None:
    configure(settings, server)
    poll(settings, sessions, FRIDAY)
    server.routes["/rss/cs.LG"].body += b"<!-- would not parse if read: <unclosed"
    server.routes["/rss/cs.LG"].etag = False
    server.routes["/rss/cs.LG"].statuses = [304]
    again = poll(settings, sessions, FRIDAY + timedelta(hours=1))
    assert again["arxiv-lg"].not_modified and again["arxiv-lg"].ok
    assert again["arxiv-lg"].new == again["arxiv-lg"].updated == 0
    assert again["hf"].not_modified  # the server's ETag came back and got a 304


def test_failing_sources_are_reported_by_name_and_others_go_on(
    settings: Settings, sessions: sessionmaker[Session], server: FeedServer, caplog
) -> None:
    server.routes["/broken"] = Route(body=(FEEDS / "arxiv-truncated.rss").read_bytes())
    server.routes["/down"] = Route(statuses=[500, 500, 500])
    server.routes["/feed-error"] = Route(body=(FEEDS / "arxiv-feed-error.rss").read_bytes())
    server.routes["/html"] = Route(body=(FEEDS / "error-page.html").read_bytes())
    server.routes["/huge"] = Route(body=b"<rss>" + b" " * 300_000)
    extra = "".join(
        f'\n[[source]]\nname = "{name}"\nkind = "arxiv_listing"\nurl = "{server.url(path)}"\n'
        for name, path in [
            ("truncated", "/broken"),
            ("down", "/down"),
            ("missing", "/nope"),
            ("bad-category", "/feed-error"),
            ("html", "/html"),
            ("huge", "/huge"),
        ]
    )
    configure(settings, server, extra)
    results = poll(settings.model_copy(update={"fetch_max_bytes": 200_000}), sessions, FRIDAY)
    assert results["arxiv-lg"].ok and results["hf"].ok and results["api"].ok
    assert "unknown format" in results["html"].errors[0]
    assert "over fetch_max_bytes (200000 bytes)" in results["huge"].errors[0]
    assert "malformed XML" in results["truncated"].errors[0]
    assert results["down"].errors == ["HTTP 500 Internal Server Error (after 2 attempts)"]
    assert results["missing"].errors == ["HTTP 404 Not Found"]
    assert "Feed error for query: cs.XX" in results["bad-category"].errors[0]
    assert "source down: HTTP 500" in caplog.text and "the next fetch retries" in caplog.text
    with sessions() as session:
        sources = load_sources(settings.sources_file)
        status = {s.name: s for s in sources_status(session, FRIDAY, sources)}
    assert status["missing"].last_error == "HTTP 404 Not Found"
    assert status["arxiv-lg"].today == "in"


def test_an_unchanged_listing_on_an_announcement_day_is_stale(
    settings: Settings, sessions: sessionmaker[Session], server: FeedServer, caplog
) -> None:
    configure(settings, server)
    poll(settings, sessions, FRIDAY)
    with sessions() as session:
        assert source_readiness(session, FRIDAY, settings).ready
    results = poll(settings, sessions, MONDAY)
    assert results["arxiv-lg"].stale
    assert "source arxiv-lg: stale" in caplog.text
    with sessions() as session:
        readiness = source_readiness(session, MONDAY, settings)
        status = {
            s.name: s for s in sources_status(session, MONDAY, load_sources(settings.sources_file))
        }
    assert not readiness.ready and readiness.stale == ["arxiv-lg"]
    assert status["arxiv-lg"].today == "waiting"


def test_an_empty_listing_on_a_weekend_is_a_quiet_day(
    settings: Settings, sessions: sessionmaker[Session], server: FeedServer
) -> None:
    server.routes["/rss/cs.LG"] = Route(body=(FEEDS / "arxiv-empty.rss").read_bytes())
    configure(settings, server)
    results = poll(settings, sessions, SATURDAY)
    assert results["arxiv-lg"].quiet and not results["arxiv-lg"].stale
    with sessions() as session:
        readiness = source_readiness(session, SATURDAY, settings)
    assert readiness.ready and readiness.quiet_day


def test_a_listing_never_fetched_on_an_announcement_day_is_stale(
    settings: Settings, session: Session, server: FeedServer
) -> None:
    configure(settings, server)
    readiness = source_readiness(session, FRIDAY, settings)
    assert readiness.stale == ["arxiv-lg"] and not readiness.ready


def test_no_sources_file_means_ready(settings: Settings, session: Session) -> None:
    assert source_readiness(session, FRIDAY, settings).ready


def test_a_generic_feed_credits_its_papers_to_the_source_name(
    settings: Settings, sessions: sessionmaker[Session], server: FeedServer
) -> None:
    server.routes["/journal"] = Route(body=(FEEDS / "journal.rss").read_bytes())
    settings.sources_file.write_text(
        f'[[source]]\nname = "biorxiv"\nkind = "rss"\nurl = "{server.url("/journal")}"\n'
    )
    results = poll(settings, sessions, FRIDAY)
    assert results["biorxiv"].new == 2
    with sessions() as session:
        row = session.get(Paper, "doi:10.1101/2025.03.01.123456")
        assert row is not None and row.sources == ["biorxiv"]


def gone_source(server: FeedServer) -> str:
    """A source whose feed answers 404."""
    server.routes["/gone"] = Route(status=404)
    return f'\n[[source]]\nname = "gone"\nkind = "rss"\nurl = "{server.url("/gone")}"\n'


def run_cli(monkeypatch, settings: Settings, *args: str):
    from click.testing import CliRunner

    from digest.cli import cli

    monkeypatch.setenv("DIGEST_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("DIGEST_SOURCES_FILE", str(settings.sources_file))
    return CliRunner().invoke(cli, list(args))


def test_fetch_command_prints_a_summary_per_source(
    monkeypatch, settings: Settings, engine, server: FeedServer
) -> None:
    configure(settings, server, gone_source(server))
    result = run_cli(monkeypatch, settings, "fetch")
    assert result.exit_code == 0, result.output
    for name in ("arxiv-lg", "hf", "api", "gone", "HTTP 404"):
        assert name in result.output


def test_fetch_command_fails_when_every_source_fails(
    monkeypatch, settings: Settings, engine, server: FeedServer
) -> None:
    settings.sources_file.write_text(gone_source(server))
    result = run_cli(monkeypatch, settings, "fetch")
    assert result.exit_code != 0 and "every source failed" in result.output


def test_fetch_command_without_sources_says_so(monkeypatch, settings: Settings, engine) -> None:
    result = run_cli(monkeypatch, settings, "fetch")
    assert result.exit_code != 0 and "no sources configured" in result.output


def test_status_rows_show_last_success_error_and_today(
    settings: Settings, sessions: sessionmaker[Session], server: FeedServer
) -> None:
    configure(settings, server, gone_source(server))
    poll(settings, sessions, FRIDAY)
    with sessions() as session:
        sources = load_sources(settings.sources_file)
        rows = {r.name: r for r in sources_status(session, FRIDAY + timedelta(hours=1), sources)}
    assert rows["hf"].today == "fetched"
    assert rows["arxiv-lg"].last_ok_at == FRIDAY and rows["arxiv-lg"].today == "in"
    assert rows["arxiv-lg"].items == 4
    assert rows["gone"].last_error == "HTTP 404 Not Found" and rows["gone"].last_ok_at is None
    assert rows["gone"].today == "not yet"


def test_papers_are_looked_up_by_id_through_the_api(
    settings: Settings, sessions: sessionmaker[Session], server: FeedServer
) -> None:
    from digest.poll import lookup_arxiv

    server.routes["/query?id_list=2503.10001,2410.00003&max_results=2"] = Route(
        body=(FEEDS / "arxiv-api.atom").read_bytes()
    )
    with Fetcher(settings) as door:
        counts = lookup_arxiv(
            door, sessions, ["2503.10001", "2410.00003"], FRIDAY, base=server.url("/query")
        )
    assert counts.new == 2


def test_an_api_error_feed_on_lookup_is_an_error(
    settings: Settings, sessions: sessionmaker[Session], server: FeedServer
) -> None:
    from digest.poll import lookup_arxiv
    from digest.sources import ParseError

    server.routes["/query?id_list=1234.12345&max_results=1"] = Route(
        body=(FEEDS / "arxiv-api-error.atom").read_bytes()
    )
    with Fetcher(settings) as door, pytest.raises(ParseError, match="incorrect id format"):
        lookup_arxiv(door, sessions, ["1234.12345"], FRIDAY, base=server.url("/query"))


def test_earlier_daily_pages_keep_upvotes_moving(
    settings: Settings, sessions: sessionmaker[Session], server: FeedServer
) -> None:
    configure(settings, server)
    poll(settings, sessions, FRIDAY)
    yesterday = b'[{"paper": {"id": "2503.10005", "title": "LoRA Adapters", "upvotes": 20}}]'
    server.routes["/hf?date=2025-03-13"] = Route(body=yesterday)
    again = poll(settings, sessions, FRIDAY + timedelta(hours=1))
    assert again["hf"].not_modified and again["hf"].updated == 1
    with sessions() as session:
        row = session.get(Paper, "2503.10005")
        assert row is not None and row.upvotes == 20


def test_a_changed_listing_still_dated_friday_is_stale_on_monday(
    settings: Settings, sessions: sessionmaker[Session], server: FeedServer
) -> None:
    configure(settings, server)
    poll(settings, sessions, FRIDAY)
    route = server.routes["/rss/cs.LG"]
    route.body = route.body.replace(
        b"00:30:00 -0400</lastBuildDate>", b"00:31:00 -0400</lastBuildDate>"
    )
    results = poll(settings, sessions, MONDAY)
    assert not results["arxiv-lg"].not_modified and results["arxiv-lg"].stale
    with sessions() as session:
        assert source_readiness(session, MONDAY, settings).stale == ["arxiv-lg"]
