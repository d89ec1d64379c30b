"""A real aiosmtpd server whose replies are scripted per recipient address.

    with ScriptedServer({"carol@example.com": NO_SUCH_USER}) as server: ...

Recipients without a script are accepted. `times=N` makes a script apply to the first N attempts
only (then the server accepts), to test retries. Accepted messages land in `server.received`,
attempts per recipient in `server.attempts`.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope

from digest.outbox import OutboxHandler, Received, free_port


@dataclass(frozen=True)
class Script:
    """How the server treats one recipient."""

    rcpt: str = "250 OK"  # reply to RCPT TO
    data: str | None = None  # reply to the end of DATA (None: accept)
    drop: bool = False  # close the connection instead of replying to the end of DATA
    delay: float = 0.0  # seconds to wait before replying to the end of DATA
    times: int | None = None  # apply to the first N attempts only


GREYLISTED = Script(rcpt="451 4.7.1 Greylisted, please try again later")
NO_STORAGE = Script(rcpt="452 4.3.1 Insufficient system storage")
NO_SUCH_USER = Script(rcpt="550 5.1.1 <unknown>: Recipient address rejected: User unknown")
MAILBOX_FULL = Script(rcpt="552 5.2.2 Mailbox full")
POLICY_REJECT = Script(data="554 5.7.1 Message rejected: DKIM signature missing")
DROPPED = Script(drop=True)


def slow(seconds: float) -> Script:
    """A server that takes its time before the final 250 (it keeps the message)."""
    return Script(delay=seconds)


@dataclass
class ScriptedHandler(OutboxHandler):
    """OutboxHandler whose RCPT and DATA replies follow a script per recipient."""

    script: dict[str, Script] = field(default_factory=dict)
    attempts: Counter[str] = field(default_factory=Counter)
    peers: set[tuple[str, int]] = field(default_factory=set)  # one per client connection

    def _for(self, address: str) -> Script:
        script = self.script.get(address.lower(), Script())
        if script.times is not None and self.attempts[address.lower()] > script.times:
            return Script()
        return script

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        with self.lock:
            self.peers.add(session.peer)
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        with self.lock:
            self.attempts[address.lower()] += 1
        reply = self._for(address).rcpt
        if reply.startswith("2"):
            envelope.rcpt_tos.append(address)
        return reply

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        script = next((s for s in map(self._for, envelope.rcpt_tos) if s != Script()), Script())
        if script.drop:
            server.transport.abort()
            return "250 never seen"
        if script.data:
            return script.data
        reply = await super().handle_DATA(server, session, envelope)  # queued, then slow to say so
        await asyncio.sleep(script.delay)
        return reply


class ScriptedServer:
    """Run a ScriptedHandler on a free local port in a background thread (a context manager)."""

    def __init__(self, script: dict[str, Script], directory: Path | None = None) -> None:
        lowered = {address.lower(): s for address, s in script.items()}
        self.handler = ScriptedHandler(directory, script=lowered)
        self.host = "127.0.0.1"
        self.port = free_port(self.host)
        self._controller = Controller(self.handler, hostname=self.host, port=self.port)

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    @property
    def attempts(self) -> Counter[str]:
        return self.handler.attempts

    def copies(self, address: str) -> int:
        """How many accepted messages this recipient got."""
        return sum(address in r.recipients for r in self.received)

    def rescript(self, address: str, script: Script | None = None) -> None:
        """Change one recipient's script while the server runs (None: accept from now on)."""
        self.handler.script[address.lower()] = script or Script()

    def __enter__(self) -> ScriptedServer:
        self._controller.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._controller.stop()
