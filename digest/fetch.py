"""The only network door for sources: polite, bounded, conditional HTTP GETs with httpx.

Every request has connect/read timeouts, a clear User-Agent and a size cap (the body is streamed
and cut at the cap). ETag / Last-Modified make a refetch of an unchanged feed a cheap 304.
Connection errors, 429 and 5xx are retried with backoff, honouring Retry-After. arXiv asks for at
most one request every 3 seconds over one connection: requests to its hosts take turns under
one lock and keep that interval.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx

from digest.config import Settings

ARXIV_HOSTS = ("arxiv.org",)
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class FetchError(Exception):
    """A source could not be fetched; the message says why in one line."""


@dataclass(frozen=True, slots=True)
class Response:
    """What a fetch brought back; `content` is empty when the source was not modified."""

    url: str
    status: int
    content: bytes
    etag: str | None
    last_modified: str | None
    seconds: float

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class Fetcher:
    """One HTTP client for all sources of a run; use it as a context manager."""

    def __init__(
        self,
        settings: Settings,
        *,
        attempts: int = 3,
        backoff: float = 2.0,
        max_retry_after: float = 60.0,
        polite_hosts: tuple[str, ...] = ARXIV_HOSTS,
    ) -> None:
        self.max_bytes = settings.fetch_max_bytes
        self.min_interval = settings.arxiv_min_interval
        self.attempts, self.backoff, self.max_retry_after = attempts, backoff, max_retry_after
        self.polite_hosts = polite_hosts
        self._polite_lock = threading.Lock()
        self._polite_last = 0.0
        timeout = httpx.Timeout(settings.fetch_timeout, connect=min(settings.fetch_timeout, 10.0))
        self._client = httpx.Client(
            timeout=timeout,
            follow_redirects=True,
            headers={"User-Agent": settings.user_agent},
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections."""
        self._client.close()

    def get(self, url: str, etag: str | None = None, last_modified: str | None = None) -> Response:
        """GET `url` (conditionally when a validator is given); raise FetchError on failure."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        if self._is_polite(url):
            with self._polite_lock:
                self._wait_turn()
                try:
                    return self._with_retries(url, headers)
                finally:
                    self._polite_last = time.monotonic()
        return self._with_retries(url, headers)

    def _is_polite(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return any(host == h or host.endswith("." + h) for h in self.polite_hosts)

    def _wait_turn(self) -> None:
        wait = self._polite_last + self.min_interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)

    def _with_retries(self, url: str, headers: dict[str, str]) -> Response:
        for attempt in range(1, self.attempts + 1):
            last = attempt == self.attempts
            try:
                return self._once(url, headers)
            except _Retryable as exc:
                if exc.delay > self.max_retry_after:
                    wait = f"asked to wait {exc.delay:.0f} s"
                    raise FetchError(f"{exc.reason}, {wait}: left for the next fetch") from None
                if last:
                    raise FetchError(f"{exc.reason} (after {attempt} attempts)") from None
                time.sleep(exc.delay if exc.delay >= 0 else self.backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    def _once(self, url: str, headers: dict[str, str]) -> Response:
        start = time.perf_counter()
        try:
            with self._client.stream("GET", url, headers=headers) as reply:
                if reply.status_code in RETRY_STATUS:
                    delay = retry_after(reply.headers.get("Retry-After"))
                    raise _Retryable(f"HTTP {reply.status_code} {reply.reason_phrase}", delay)
                if reply.status_code >= 400:
                    raise FetchError(f"HTTP {reply.status_code} {reply.reason_phrase}")
                content = b"" if reply.status_code == 304 else self._read_capped(reply)
                return Response(
                    url=str(reply.url),
                    status=reply.status_code,
                    content=content,
                    etag=reply.headers.get("ETag"),
                    last_modified=reply.headers.get("Last-Modified"),
                    seconds=time.perf_counter() - start,
                )
        except httpx.TimeoutException:
            raise _Retryable("timed out", -1) from None
        except httpx.TransportError as exc:
            raise _Retryable(f"connection failed: {exc}", -1) from None

    def _read_capped(self, reply: httpx.Response) -> bytes:
        chunks: list[bytes] = []
        size = 0
        for chunk in reply.iter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                cap = self.max_bytes
                raise FetchError(f"response over fetch_max_bytes ({cap} bytes), cut there")
            chunks.append(chunk)
        return b"".join(chunks)


class _Retryable(Exception):
    def __init__(self, reason: str, delay: float) -> None:
        super().__init__(reason)
        self.reason, self.delay = reason, delay


def retry_after(value: str | None) -> float:
    """Return the seconds a Retry-After header asks for (-1 when absent or unreadable)."""
    if not value:
        return -1
    if value.strip().isdigit():
        return float(value.strip())
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return -1
    return max(0.0, moment.timestamp() - time.time())
