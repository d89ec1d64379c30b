"""Messages as a real SMTP server receives them; the reply-code policy against scripted replies."""

from __future__ import annotations

import base64
import io
import shutil
import ssl
import subprocess
import threading
import time
from email import message_from_bytes
from email.generator import BytesGenerator
from email.policy import default
from pathlib import Path

import dkim
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from smtp_scripted import (
    DROPPED,
    GREYLISTED,
    MAILBOX_FULL,
    NO_STORAGE,
    NO_SUCH_USER,
    POLICY_REJECT,
    Script,
    ScriptedServer,
    slow,
)
from test_render import load_context

from digest.config import ConfigError, Settings, load_settings
from digest.mailer import (
    BOUNDARY,
    Mailer,
    RateLimiter,
    SendResult,
    SmtpUnavailable,
    build_message,
    classify,
    send_all,
)
from digest.outbox import OutboxHandler, OutboxServer, free_port
from digest.render import Rendered, Renderer
from digest.smtp import wire_bytes

UNSUBSCRIBE = (
    "https://digest.example.org/u/eyJzIjo0MiwidiI6MX0.Z0Ji8Q.mJ0p3qQ9d1Ew7xN0zGv2b8Ck5sUxyz"
)


@pytest.fixture(scope="module")
def digest() -> Rendered:
    return Renderer().digest(load_context("ten-papers"))


def send(settings: Settings, rendered: Rendered, to: str = "alice@example.com") -> SendResult:
    message = build_message(rendered, to=to, settings=settings, unsubscribe_url=UNSUBSCRIBE)
    with Mailer(settings) as mailer:
        return mailer.send(message)


def test_digest_arrives_with_both_parts_and_every_header(
    settings: Settings, smtp: OutboxServer, digest: Rendered
) -> None:
    assert send(settings, digest) == SendResult("sent", 250, "OK: queued")
    [received] = smtp.received
    message = received.message
    assert received.recipients == ["alice@example.com"]
    assert message["From"] == "digest <digest@example.org>"
    assert message["To"] == "alice@example.com"
    assert message["Subject"] == digest.subject
    assert message["Date"].datetime.tzinfo is not None
    assert message["Message-ID"].endswith("@example.org>")
    assert message["List-Id"] == settings.list_id
    assert message["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "multipart/alternative"
    assert _lines(message.get_body(("plain",)).get_content()) == _lines(digest.text)
    assert _lines(message.get_body(("html",)).get_content()) == _lines(digest.html)


def _raw(smtp: OutboxServer) -> bytes:
    """The first message exactly as it came over the wire."""
    path = smtp.received[0].path
    assert path is not None
    return path.read_bytes()


def _lines(content: str) -> str:
    """Compare parts as text: the wire adds CRLF line ends and a final newline."""
    return content.replace("\r\n", "\n").rstrip("\n")


def test_unsubscribe_url_is_sent_unfolded_and_unencoded(
    settings: Settings, smtp: OutboxServer, digest: Rendered
) -> None:
    send(settings, digest)
    raw = _raw(smtp)
    assert f"\r\nList-Unsubscribe: <{UNSUBSCRIBE}>\r\n".encode() in raw
    assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in raw


def test_messages_without_unsubscribe_url_have_no_list_unsubscribe(settings: Settings) -> None:
    rendered = Renderer().message("confirm", confirm_url="https://digest.example.org/confirm/t")
    message = build_message(
        rendered, to="dave@example.com", settings=settings, unsubscribe_url=None
    )
    assert "List-Unsubscribe" not in message and "List-Unsubscribe-Post" not in message


@pytest.mark.parametrize(
    "context", ["ten-papers", "hostile", "quiet-day", "weekly", "plain", "carriage returns"]
)
def test_the_bytes_sent_are_those_the_standard_generator_makes(
    settings: Settings, context: str
) -> None:
    made = {
        "plain": Rendered("Confirm", "Plain ASCII,\nshort lines.\n", "<p>Plain ASCII</p>"),
        "carriage returns": Rendered("CR", "One\r\nTwo\rThree\n", "<p>a</p>\r\n<p>b</p>"),
    }
    message = build_message(
        made.get(context) or Renderer().digest(load_context(context)),
        to="alice@example.com",
        settings=settings,
        unsubscribe_url=UNSUBSCRIBE,
    )
    sent = wire_bytes(message)  # picks the boundary, which the standard generator then reuses
    with io.BytesIO() as expected:
        BytesGenerator(expected, policy=message.policy).flatten(message, linesep="\r\n")
        assert sent == expected.getvalue()


def test_a_body_that_holds_the_shared_boundary_gets_another(settings: Settings) -> None:
    rendered = Rendered("Tricky", f"--{BOUNDARY}\n", "<p>fine</p>")
    message = build_message(rendered, to="a@example.com", settings=settings, unsubscribe_url=None)
    parsed = message_from_bytes(wire_bytes(message), policy=default)
    assert parsed.get_boundary() != BOUNDARY
    bodies = [part.get_content().replace("\r\n", "\n") for part in parsed.iter_parts()]
    assert bodies == [rendered.text, "<p>fine</p>\n"]


def test_crlf_in_a_title_creates_no_header(settings: Settings, smtp: OutboxServer) -> None:
    rendered = Renderer().digest(load_context("hostile"))
    assert send(settings, rendered, to="carol@example.com").outcome == "sent"
    message = smtp.received[0].message
    assert "Bcc" not in message and smtp.received[0].recipients == ["carol@example.com"]
    assert '"quotes" Bcc' in message["Subject"]


def test_crlf_in_an_address_or_link_is_refused(settings: Settings, digest: Rendered) -> None:
    with pytest.raises(ValueError):
        build_message(digest, to="a@example.com\r\nBcc: b@example.com", settings=settings,
                      unsubscribe_url=None)  # fmt: skip
    with pytest.raises(ValueError):
        build_message(digest, to="a@example.com", settings=settings,
                      unsubscribe_url=UNSUBSCRIBE + "\r\nBcc: b@example.com")  # fmt: skip


def test_given_message_id_is_used(settings: Settings, digest: Rendered) -> None:
    message = build_message(digest, to="a@example.com", settings=settings, unsubscribe_url=None,
                            message_id="<delivery-7@example.org>")  # fmt: skip
    assert message["Message-ID"] == "<delivery-7@example.org>"


def _dkim_key(tmp_path: Path) -> tuple[Path, bytes]:
    """A fresh RSA key and its DNS TXT record."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a DKIM test key")
    key = tmp_path / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-traditional", "-out", str(key), "1024"],
                   check=True, capture_output=True)  # fmt: skip
    public = subprocess.run(["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
                            check=True, capture_output=True).stdout  # fmt: skip
    return key, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


def test_dkim_signature_covers_list_headers_and_verifies(
    settings: Settings, smtp: OutboxServer, digest: Rendered, tmp_path: Path
) -> None:
    key, record = _dkim_key(tmp_path)
    signing = settings.model_copy(
        update={"dkim_domain": "example.org", "dkim_selector": "mail", "dkim_private_key_file": key}
    )
    assert send(signing, digest).outcome == "sent"
    raw = _raw(smtp)

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"mail._domainkey.example.org."
        return record

    assert dkim.verify(raw, dnsfunc=dns)
    signed = smtp.received[0].message["DKIM-Signature"].replace(" ", "").lower()
    assert (
        "h=from:to:subject:date:message-id:list-id:list-unsubscribe:list-unsubscribe-post" in signed
    )
    assert not dkim.verify(raw.replace(b"List-Id: ", b"List-Id: x"), dnsfunc=dns)


@pytest.mark.parametrize(
    ("script", "outcome", "code"),
    [
        (GREYLISTED, "retry", 451),
        (NO_STORAGE, "retry", 452),
        (MAILBOX_FULL, "retry", 552),
        (NO_SUCH_USER, "bounced", 550),
        (POLICY_REJECT, "failed", 554),
        (DROPPED, "retry", None),
        (slow(0.3), "sent", 250),
    ],
    ids=["451", "452", "552", "550-5.1.1", "554-5.7.1", "dropped-before-data-reply", "slow-250"],
)
def test_reply_codes_are_classified(
    digest: Rendered, script: Script, outcome: str, code: int | None
) -> None:
    with ScriptedServer({"erin@example.com": script}) as server:
        settings = load_settings(smtp_host=server.host, smtp_port=server.port, smtp_timeout=5)
        result = send(settings, digest, to="erin@example.com")
    assert (result.outcome, result.code) == (outcome, code)
    assert server.copies("erin@example.com") == (1 if outcome == "sent" else 0)


def test_policy_rejection_alerts_the_operator_without_blaming_the_address(
    digest: Rendered, caplog: pytest.LogCaptureFixture
) -> None:
    with ScriptedServer({"erin@example.com": POLICY_REJECT}) as server:
        settings = load_settings(smtp_host=server.host, smtp_port=server.port)
        assert send(settings, digest, to="erin@example.com").outcome == "failed"
    assert "policy reasons" in caplog.text and "not marked bounced" in caplog.text


def test_timeout_waiting_for_the_final_250_is_a_retry(digest: Rendered) -> None:
    with ScriptedServer({"erin@example.com": slow(1.5)}) as server:
        settings = load_settings(smtp_host=server.host, smtp_port=server.port, smtp_timeout=0.5)
        assert send(settings, digest, to="erin@example.com").outcome == "retry"
        time.sleep(1.2)
        # The server kept it: the documented window where a retry may send a second copy.
        assert server.copies("erin@example.com") == 1


def test_partial_recipient_refusal_is_returned_and_checked(
    settings: Settings, digest: Rendered
) -> None:
    with ScriptedServer({"nobody@example.com": NO_SUCH_USER}) as server:
        settings = load_settings(smtp_host=server.host, smtp_port=server.port)
        message = build_message(digest, to="alice@example.com, nobody@example.com",
                                 settings=settings, unsubscribe_url=None)  # fmt: skip
        with Mailer(settings) as mailer:
            result = mailer.send(message)
    assert (result.outcome, result.code) == ("bounced", 550)
    assert server.copies("alice@example.com") == 1


def test_one_connection_carries_many_messages(digest: Rendered) -> None:
    with ScriptedServer({"grey@example.com": GREYLISTED}) as server:
        settings = load_settings(smtp_host=server.host, smtp_port=server.port)
        with Mailer(settings) as mailer:
            outcomes = [
                mailer.send(build_message(digest, to=to, settings=settings, unsubscribe_url=None))
                for to in ("a@example.com", "grey@example.com", "b@example.com")
            ]
    assert [r.outcome for r in outcomes] == ["sent", "retry", "sent"]
    assert len(server.handler.peers) == 1


def test_server_closing_with_421_is_a_retry_and_the_next_message_reconnects(
    digest: Rendered,
) -> None:
    closing = Script(rcpt="421 4.3.2 Service shutting down")
    with ScriptedServer({"frank@example.com": closing}) as server:
        settings = load_settings(smtp_host=server.host, smtp_port=server.port)
        with Mailer(settings) as mailer:
            first = mailer.send(build_message(digest, to="frank@example.com", settings=settings,
                                              unsubscribe_url=None))  # fmt: skip
            second = mailer.send(build_message(digest, to="gina@example.com", settings=settings,
                                               unsubscribe_url=None))  # fmt: skip
    assert (first.outcome, first.code, second.outcome) == ("retry", 421, "sent")
    assert len(server.handler.peers) == 2


def test_mailer_reconnects_once_when_the_server_dropped_an_idle_connection(
    digest: Rendered, tmp_path: Path
) -> None:
    server = OutboxServer(tmp_path / "box").start()
    settings = load_settings(smtp_host=server.host, smtp_port=server.port)
    try:
        with Mailer(settings) as mailer:
            message = build_message(digest, to="a@example.com", settings=settings,
                                    unsubscribe_url=None)  # fmt: skip
            assert mailer.send(message).outcome == "sent"
            server.stop()
            server.start()
            assert mailer.send(message).outcome == "sent"
    finally:
        server.stop()
    assert len(server.received) == 2


def test_unreachable_server_raises_smtp_unavailable() -> None:
    settings = load_settings(smtp_host="127.0.0.1", smtp_port=free_port(), smtp_timeout=2)
    with pytest.raises(SmtpUnavailable, match=r"cannot use SMTP server 127\.0\.0\.1:\d+ \(none\)"):
        Mailer(settings).__enter__()


def test_rate_limit_spaces_messages() -> None:
    limiter = RateLimiter(20.0)
    started = time.monotonic()
    for _ in range(5):
        limiter.wait()
    assert time.monotonic() - started >= 0.19


def test_send_all_sends_everything_over_parallel_connections(digest: Rendered) -> None:
    script = {"nobody@example.com": NO_SUCH_USER}
    with ScriptedServer(script) as server:
        settings = load_settings(smtp_host=server.host, smtp_port=server.port, smtp_connections=3)
        recipients = [f"user{i}@example.com" for i in range(12)] + ["nobody@example.com"]
        messages = (
            (to, build_message(digest, to=to, settings=settings, unsubscribe_url=None))
            for to in recipients
        )
        results: dict[str, str] = {}
        callers: set[int] = set()

        def on_result(key: str, result: SendResult) -> None:
            callers.add(threading.get_ident())
            results[key] = result.outcome

        send_all(settings, messages, on_result)
    assert results == {to: "bounced" if to.startswith("nobody") else "sent" for to in recipients}
    assert callers == {threading.get_ident()}
    assert len(server.handler.peers) == 3


def test_send_all_raises_when_no_connection_can_be_made(digest: Rendered) -> None:
    settings = load_settings(smtp_host="127.0.0.1", smtp_port=free_port(), smtp_connections=2)
    message = build_message(digest, to="a@example.com", settings=settings, unsubscribe_url=None)
    with pytest.raises(SmtpUnavailable):
        send_all(settings, [("a", message)], lambda key, result: None)


@pytest.mark.parametrize(
    ("code", "reply", "stage", "outcome"),
    [
        (250, "OK", "data", "sent"),
        (421, "4.3.2 Shutting down", "mail", "retry"),
        (552, "5.3.4 Message too big", "data", "retry"),
        (550, "5.1.1 User unknown", "rcpt", "bounced"),
        (550, "5.1.10 Recipient address has null MX", "rcpt", "bounced"),
        (553, "5.1.8 Bad sender domain", "rcpt", "failed"),
        (550, "5.1.1 User unknown", "data", "failed"),
        (554, "5.7.1 Rejected for policy reasons", "rcpt", "failed"),
        (550, "Mailbox unavailable", "rcpt", "failed"),
    ],
)
def test_classify_follows_the_reply_code_policy(
    code: int, reply: str, stage: str, outcome: str
) -> None:
    assert classify(code, reply, stage) == outcome


def _certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


class _Logins:
    """aiosmtpd authenticator accepting one user."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        login = auth_data.login.decode()
        self.seen.append(login)
        ok = login == "digest" and auth_data.password == b"s3cret"
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd sends the 535


@pytest.fixture
def tls_server(tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    """A real server over STARTTLS or implicit TLS with AUTH, its certificate trusted."""
    cert, key = _certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    port, logins, handler = free_port(), _Logins(), OutboxHandler()
    # With implicit TLS aiosmtpd cannot tell the session is encrypted, so it must not insist.
    tls: dict[str, object] = (
        {"ssl_context": context, "auth_require_tls": False}
        if request.param == "ssl"
        else {"tls_context": context, "require_starttls": True, "auth_require_tls": True}
    )
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=logins,
        **tls,
    )
    controller.start()
    yield request.param, port, logins, handler
    controller.stop()


@pytest.mark.parametrize("tls_server", ["starttls", "ssl"], indirect=True)
def test_mail_goes_over_tls_with_auth(tls_server, digest: Rendered) -> None:
    security, port, logins, handler = tls_server
    settings = load_settings(smtp_host="127.0.0.1", smtp_port=port, smtp_security=security,
                             smtp_username="digest", smtp_password="s3cret")  # fmt: skip
    assert send(settings, digest).outcome == "sent"
    assert logins.seen == ["digest"] and len(handler.received) == 1


@pytest.mark.parametrize("tls_server", ["starttls"], indirect=True)
def test_wrong_password_raises_smtp_unavailable(tls_server) -> None:
    _, port, _, _ = tls_server
    settings = load_settings(smtp_host="127.0.0.1", smtp_port=port, smtp_security="starttls",
                             smtp_username="digest", smtp_password="wrong")  # fmt: skip
    with pytest.raises(SmtpUnavailable, match="535"):
        Mailer(settings).__enter__()


@pytest.mark.parametrize("tls_server", ["starttls"], indirect=True)
def test_untrusted_certificate_is_refused(
    tls_server,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    _, port, _, _ = tls_server
    (tmp_path / "other").mkdir()
    other, _ = _certificate(tmp_path / "other")
    monkeypatch.setenv("SSL_CERT_FILE", str(other))
    settings = load_settings(smtp_host="127.0.0.1", smtp_port=port, smtp_security="starttls")
    with pytest.raises(SmtpUnavailable, match="certificate verify failed"):
        Mailer(settings).__enter__()


def test_unreadable_or_invalid_dkim_key_is_a_configuration_error(
    settings: Settings, digest: Rendered, tmp_path: Path
) -> None:
    dkim_settings = {"dkim_domain": "example.org", "dkim_selector": "mail"}
    missing = settings.model_copy(
        update={**dkim_settings, "dkim_private_key_file": tmp_path / "none.pem"}
    )
    with pytest.raises(ConfigError, match="cannot read"):
        build_message(digest, to="a@example.com", settings=missing, unsubscribe_url=None)
    (tmp_path / "bad.pem").write_text("not a key")
    bad = missing.model_copy(update={"dkim_private_key_file": tmp_path / "bad.pem"})
    with pytest.raises(ConfigError, match="cannot sign"):
        build_message(digest, to="a@example.com", settings=bad, unsubscribe_url=None)


def test_send_all_raises_an_error_from_the_message_source(
    smtp: OutboxServer, digest: Rendered
) -> None:
    settings = load_settings(smtp_host=smtp.host, smtp_port=smtp.port, smtp_connections=2)

    def messages():
        yield (
            "a",
            build_message(digest, to="a@example.com", settings=settings, unsubscribe_url=None),
        )
        raise RuntimeError("claiming the next delivery failed")

    sent: list[str] = []
    with pytest.raises(RuntimeError, match="claiming"):
        send_all(settings, messages(), lambda key, result: sent.append(key))
    assert sent == ["a"]
