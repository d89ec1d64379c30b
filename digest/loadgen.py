"""HTTP load for the web bench, always from a child process on loopback.

Two measures: the most requests per second a few connections get (wrk when installed), and the
latency at a fixed arrival rate (open loop: each request has a scheduled start, and its latency
counts from that start, so a stalled server cannot hide its queue by slowing the client down).
"""

from __future__ import annotations

import http.client
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Target:
    """A GET of `url`, or with `token` the subscribe POST carrying that CSRF token and cookie."""

    url: str
    token: str = ""
    cookie: str = ""


@dataclass(frozen=True)
class LoadResult:
    """What one run measured."""

    rps: float
    p99_ms: float
    failed: int


def closed_loop(target: Target, seconds: int, connections: int, tmp: Path) -> LoadResult:
    """As many requests as `connections` busy clients can make (wrk, else Python clients)."""
    if shutil.which("wrk") is None:
        return _child("closed", target, seconds, connections)
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", target.url]
    if target.token:
        script = tmp / "subscribe.lua"
        lua = _WRK_SUBSCRIBE.replace("@TOKEN@", target.token).replace("@COOKIE@", target.cookie)
        script.write_text(lua)
        command[1:1] = ["-s", str(script)]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30).stdout
    return parse_wrk(out)


def open_loop(target: Target, seconds: int, rate: float) -> LoadResult:
    """Requests arriving at `rate` per second whatever the answers; latency from the schedule."""
    return _child("open", target, seconds, rate)


_WRK_SUBSCRIBE = """
local count, tid, threads = 0, 0, 0
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
function request()
  count = count + 1
  local body = "csrf_token=@TOKEN@&topics=diffusion&timezone=UTC&email=w" .. tid .. "-" ..
    count .. "-" .. os.time() .. "%40example.org"
  local headers = {["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = "@COOKIE@"}
  return wrk.format("POST", nil, headers, body)
end
"""


def parse_wrk(out: str) -> LoadResult:
    """Read requests/s, the 99th percentile and the failures from `wrk --latency` output."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"\s99%\s+([\d.]+)(us|ms|s)\b", out)
    if rps is None or p99 is None:
        raise RuntimeError(f"unexpected wrk output: {out[-300:]!r}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = int(bad.group(1)) if bad else 0
    failed += sum(map(int, errors.groups())) if errors else 0
    return LoadResult(float(rps.group(1)), float(p99.group(1)) * scale, failed)


def _child(mode: str, target: Target, seconds: int, amount: float) -> LoadResult:
    args = [mode, target.url, target.token, target.cookie, str(seconds), str(amount)]
    done = subprocess.run(
        [sys.executable, "-m", "digest.loadgen", *args],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed: {done.stderr[-300:]}")
    rps, p99, failed = done.stdout.split()
    return LoadResult(float(rps), float(p99), int(failed))


class _Client:
    """One keep-alive connection sending the target request."""

    def __init__(self, target: Target, name: str) -> None:
        self.target, self.name, self.count = target, name, 0
        parts = urlsplit(target.url)
        self.path = parts.path or "/"
        self.conn = http.client.HTTPConnection(
            parts.hostname or "127.0.0.1", parts.port, timeout=10
        )

    def send(self) -> bool:
        """Make one request; True when it succeeded."""
        self.count += 1
        if self.target.token:
            email = f"{self.name}-{self.count}-{time.time_ns()}%40example.org"
            body = f"csrf_token={self.target.token}&topics=diffusion&email={email}"
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            self.conn.request("POST", self.path, body, headers | {"Cookie": self.target.cookie})
        else:
            self.conn.request("GET", self.path)
        answer = self.conn.getresponse()
        answer.read()
        return answer.status < 400


def _run(target: Target, seconds: float, threads: int, plan: Callable[[int], float | None]) -> str:
    """Run `threads` clients; `plan(i)` gives request i's scheduled start, None when done."""
    latencies: list[float] = []
    failed, lock, counter = [0], threading.Lock(), iter(range(10**9))

    def worker(name: str) -> None:
        client = _Client(target, name)
        while True:
            with lock:
                due = plan(next(counter))
            if due is None:
                return
            time.sleep(max(0.0, due - time.monotonic()))
            ok = client.send()
            with lock:
                latencies.append(time.monotonic() - due)
                failed[0] += not ok

    pool = [threading.Thread(target=worker, args=(f"t{i}",)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    latencies.sort()
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000 if latencies else float("nan")
    return f"{len(latencies) / seconds} {p99} {failed[0]}"


def main() -> None:
    """Child entry: `python -m digest.loadgen closed|open URL TOKEN COOKIE SECONDS N|RATE`."""
    mode, url, token, cookie, seconds_text, amount = sys.argv[1:7]
    target, seconds = Target(url, token, cookie), float(seconds_text)
    start = time.monotonic() + 0.2
    if mode == "open":
        rate = float(amount)
        total = int(seconds * rate)

        def plan(i: int) -> float | None:
            return start + i / rate if i < total else None

        print(_run(target, seconds, 32, plan))
        return

    def now_until_stop(_i: int) -> float | None:
        moment = time.monotonic()
        return moment if moment < start + seconds else None

    print(_run(target, seconds, int(amount), now_until_stop))


if __name__ == "__main__":
    main()
