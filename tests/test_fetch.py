"""The fetch door against a real local HTTP server: validators, caps, retries, politeness."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from feedserver import FeedServer, Route

from digest.config import Settings, load_settings
from digest.fetch import Fetcher, FetchError, retry_after

FEED = (Path(__file__).parent / "data" / "feeds" / "arxiv-cs.LG.rss").read_bytes()


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        yield running


def fast_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "fetch_timeout": 0.5,
        "arxiv_min_interval": 0.0,
        "user_agent": "digest-tests/1.0 (+mailto:ops@example.org)",
    }
    values.update(overrides)
    return load_settings(**values)


def fetcher(**options: object) -> Fetcher:
    settings = fast_settings(**options.pop("settings", {}))  # type: ignore[arg-type]
    return Fetcher(settings, backoff=0.01, **options)  # type: ignore[arg-type]


def test_it_fetches_bytes_with_a_clear_user_agent(server: FeedServer) -> None:
    server.routes["/rss"] = Route(body=FEED)
    with fetcher() as door:
        response = door.get(server.url("/rss"))
    assert response.content == FEED and response.status == 200 and response.etag
    assert server.hits[0].headers["User-Agent"] == "digest-tests/1.0 (+mailto:ops@example.org)"


def test_refetch_with_the_etag_is_a_304_without_a_body(server: FeedServer) -> None:
    server.routes["/rss"] = Route(body=FEED)
    with fetcher() as door:
        first = door.get(server.url("/rss"))
        second = door.get(server.url("/rss"), etag=first.etag)
    assert second.not_modified and second.content == b""
    assert server.hits[1].headers["If-None-Match"] == first.etag


def test_last_modified_is_sent_back(server: FeedServer) -> None:
    stamp = "Fri, 14 Mar 2025 04:30:00 GMT"
    server.routes["/rss"] = Route(body=FEED, headers={"Last-Modified": stamp}, etag=False)
    with fetcher() as door:
        first = door.get(server.url("/rss"))
        door.get(server.url("/rss"), last_modified=first.last_modified)
    assert server.hits[1].headers["If-Modified-Since"] == stamp


def test_an_oversized_response_is_cut_at_the_cap(server: FeedServer) -> None:
    server.routes["/big"] = Route(body=b"x" * 50_000)
    with fetcher(settings={"fetch_max_bytes": 4096}) as door:
        with pytest.raises(FetchError, match="over fetch_max_bytes \\(4096 bytes\\)"):
            door.get(server.url("/big"))


@pytest.mark.parametrize("status", [404, 410, 403])
def test_client_errors_fail_at_once(server: FeedServer, status: int) -> None:
    server.routes["/gone"] = Route(status=status, body=b"no")
    with fetcher() as door:
        with pytest.raises(FetchError, match=f"HTTP {status}"):
            door.get(server.url("/gone"))
    assert len(server.hits) == 1


def test_a_missing_path_is_a_404(server: FeedServer) -> None:
    with fetcher() as door, pytest.raises(FetchError, match="HTTP 404 Not Found"):
        door.get(server.url("/nothing-here"))


def test_5xx_is_retried_then_succeeds(server: FeedServer) -> None:
    server.routes["/flaky"] = Route(body=FEED, statuses=[500, 503])
    with fetcher() as door:
        response = door.get(server.url("/flaky"))
    assert response.content == FEED
    assert len(server.hits) == 3


def test_persistent_5xx_gives_up_after_the_attempts(server: FeedServer) -> None:
    server.routes["/down"] = Route(body=FEED, statuses=[500, 500, 500, 500])
    with fetcher(attempts=3) as door:
        with pytest.raises(
            FetchError, match="HTTP 500 Internal Server Error \\(after 3 attempts\\)"
        ):
            door.get(server.url("/down"))


def test_429_honours_retry_after(server: FeedServer) -> None:
    server.routes["/slow-down"] = Route(body=FEED, statuses=[429], headers={"Retry-After": "1"})
    with fetcher() as door:
        door.get(server.url("/slow-down"))
    assert server.hits[1].at - server.hits[0].at >= 0.95


def test_a_retry_after_beyond_the_limit_is_not_waited_for(server: FeedServer) -> None:
    server.routes["/later"] = Route(body=FEED, statuses=[429], headers={"Retry-After": "3600"})
    with fetcher(max_retry_after=5) as door:
        with pytest.raises(FetchError, match="HTTP 429 Too Many Requests, asked to wait 3600 s"):
            door.get(server.url("/later"))
    assert len(server.hits) == 1


def test_a_timeout_is_retried_and_reported(server: FeedServer) -> None:
    server.routes["/stuck"] = Route(body=FEED, delay=0.6)
    with fetcher(attempts=2, settings={"fetch_timeout": 0.2}) as door:
        with pytest.raises(FetchError, match="timed out \\(after 2 attempts\\)"):
            door.get(server.url("/stuck"))


def test_a_refused_connection_is_reported() -> None:
    with fetcher(attempts=2) as door, pytest.raises(FetchError, match="connection failed"):
        door.get("http://127.0.0.1:9/feed")


def test_polite_hosts_are_asked_at_most_once_per_interval(server: FeedServer) -> None:
    server.routes["/a"] = Route(body=FEED)
    options = {"polite_hosts": ("127.0.0.1",), "settings": {"arxiv_min_interval": 0.3}}
    with fetcher(**options) as door:
        for _ in range(3):
            door.get(server.url("/a"))
    gaps = [b.at - a.at for a, b in zip(server.hits, server.hits[1:], strict=False)]
    assert min(gaps) >= 0.29


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("7", 7.0), (None, -1), ("soon", -1), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)],
)
def test_retry_after_reads_seconds_or_a_date(header: str | None, seconds: float) -> None:
    assert retry_after(header) == seconds


def test_a_gzipped_response_is_decoded(server: FeedServer) -> None:
    import gzip

    server.routes["/gz"] = Route(body=gzip.compress(FEED), headers={"Content-Encoding": "gzip"})
    with fetcher() as door:
        assert door.get(server.url("/gz")).content == FEED


def test_the_cap_counts_decoded_bytes_so_a_small_bomb_is_cut(server: FeedServer) -> None:
    import gzip

    bomb = gzip.compress(b" " * 1_000_000)
    server.routes["/bomb"] = Route(body=bomb, headers={"Content-Encoding": "gzip"})
    with fetcher(settings={"fetch_max_bytes": 65536}) as door:
        with pytest.raises(FetchError, match="over fetch_max_bytes"):
            door.get(server.url("/bomb"))
    assert len(bomb) < 65536
