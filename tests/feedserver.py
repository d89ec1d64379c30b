"""A real local HTTP server for fetch tests: serves recorded bytes with ETags, delays and errors."""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    """What one path answers; `statuses` are served in turn before the body (e.g. 503, then 200)."""

    body: bytes = b""
    status: int = 200
    statuses: list[int] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    etag: bool = True


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    at: float


class FeedServer:
    """`with FeedServer() as server: server.routes["/x"] = Route(body=...)`; `server.url("/x")`."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[Hit] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def url(self, path: str) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def __enter__(self) -> FeedServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                server.hits.append(Hit(self.path, dict(self.headers), time.monotonic()))
                route = server.routes.get(self.path)
                if route is None:
                    self._reply(404, b"not found", {})
                    return
                time.sleep(route.delay)
                if route.statuses:
                    self._reply(route.statuses.pop(0), b"busy", route.headers)
                    return
                etag = f'"{hashlib.sha1(route.body).hexdigest()}"'
                if route.etag and self.headers.get("If-None-Match") == etag:
                    self._reply(304, b"", {"ETag": etag})
                    return
                headers = {**route.headers, **({"ETag": etag} if route.etag else {})}
                self._reply(route.status, route.body, headers)

            def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout or size cap): that is the test

            def log_message(self, *_args: object) -> None:
                pass

        return Handler
