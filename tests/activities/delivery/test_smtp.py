"""Email through SMTP, received by a real aiosmtpd server on loopback: the same message as
SES gets, with our Message-ID, and errors judged by whether the relay took the message."""

import asyncio
import datetime as dt
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.common.tokens import verify_reply_token, verify_unsubscribe_token
from activities.content.config import ContentConfig, SenderProfile
from activities.content.templates import TemplateRenderer
from activities.delivery.config import DeliveryConfig, SmtpConfig
from activities.delivery.email import EmailActivities
from activities.delivery.errors import DELIVERY_DEFERRED, DELIVERY_REJECTED, SEND_IN_DOUBT
from activities.delivery.smtp import SmtpTransport
from activities.stores.ledger import ClaimStatus, SqliteSendLedger
from tests.support.email_support import (
    REPLY_DOMAIN,
    SECRET,
    SENDER_DOMAIN,
    UNSUBSCRIBE_BASE,
    FakeClock,
    dana,
    make_touch,
    parse,
)
from workflows.models import TouchInput

OWNER = SenderProfile(name="Sam Ortiz", title="Account Executive", email=f"sam.ortiz@{SENDER_DOMAIN}")


class ThreadedTouchInput(TouchInput):
    thread_with: str | None = None


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    tls: bool
    authenticated: bool


@dataclass
class Relay:
    """An aiosmtpd handler: keeps what it accepted, refuses recipients it is told to."""

    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    stall_data_seconds: float = 0

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                envelope.original_content or envelope.content,
                session.ssl is not None,
                session.authenticated,
            )
        )
        if self.stall_data_seconds:
            await asyncio.sleep(self.stall_data_seconds)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: (certificate file, key file)."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "relay.pem", folder / "relay.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


def _start(relay: Relay, **smtp_parameters: Any) -> Iterator[int]:
    port = _free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=port, **smtp_parameters)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture
def relay() -> Relay:
    return Relay()


@pytest.fixture
def plain_port(relay: Relay) -> Iterator[int]:
    yield from _start(relay)


@pytest.fixture
def tls_port(relay: Relay, certificate: tuple[Path, Path]) -> Iterator[int]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        good = isinstance(data, LoginPassword) and (data.login, data.password) == (b"touchpoint", b"s3cret")
        # handled=False: aiosmtpd answers 535 itself.
        return AuthResult(success=good, handled=False)

    yield from _start(
        relay,
        tls_context=context,
        require_starttls=True,
        auth_required=True,
        authenticator=authenticate,
    )


def config_for(tmp_path: Path, smtp: SmtpConfig, **changes: Any) -> DeliveryConfig:
    values: dict[str, Any] = {
        "outbox_dir": tmp_path / "outbox",
        "email_transport": "smtp",
        "smtp": smtp,
        "token_secret": SECRET,
        "unsubscribe_base_url": UNSUBSCRIBE_BASE,
        "reply_to_domain": REPLY_DOMAIN,
    }
    return DeliveryConfig(**(values | changes))


def ledger_file(config: DeliveryConfig) -> Path:
    return config.outbox_dir.parent / "ledger.sqlite3"


def smtp_emails(config: DeliveryConfig, clock: FakeClock | None = None) -> EmailActivities:
    assert config.smtp is not None
    ledger = SqliteSendLedger(ledger_file(config))
    content = ContentConfig(owners={"rep-7": OWNER})
    return EmailActivities(TemplateRenderer(), SmtpTransport(config.smtp), content, config, ledger=ledger, clock=clock)


def test_the_relay_gets_our_headers_both_parts_and_our_message_id(
    relay: Relay, plain_port: int, tmp_path: Path
) -> None:
    config = config_for(tmp_path, SmtpConfig(host="127.0.0.1", port=plain_port, starttls=False))
    emails = smtp_emails(config)

    result = ActivityEnvironment().run(emails.send_email, make_touch(dana()))

    [got] = relay.received
    assert got.mail_from == OWNER.email and got.rcpt_tos == ["dana@acme.example"]
    message = parse(got.content)
    assert message["Message-ID"] == result.message_id
    assert result.message_id is not None and result.message_id.endswith(f"@{SENDER_DOMAIN}>")
    assert message["From"] == f"Sam Ortiz <{OWNER.email}>"
    assert message["To"] == "Dana Reyes <dana@acme.example>"
    assert verify_reply_token(str(message["Reply-To"]), SECRET) == "crm-0042"
    https = message["List-Unsubscribe"].split(",")[0].strip(" <>")
    assert verify_unsubscribe_token(https.rpartition("/u/")[2], SECRET) == "crm-0042"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Hi Dana," in message.get_body(("plain",)).get_content()
    assert "<p>Hi Dana,</p>" in message.get_body(("html",)).get_content()


def test_a_retry_after_success_sends_nothing_and_a_follow_up_threads(
    relay: Relay, plain_port: int, tmp_path: Path
) -> None:
    emails = smtp_emails(config_for(tmp_path, SmtpConfig(host="127.0.0.1", port=plain_port, starttls=False)))
    first = ActivityEnvironment().run(emails.send_email, make_touch(dana()))
    again = ActivityEnvironment().run(emails.send_email, make_touch(dana()))
    follow_up = make_touch(
        dana(), "day-3-discovery-challenge", seq=2, touch_type=ThreadedTouchInput, thread_with=first.message_id
    )

    ActivityEnvironment().run(emails.send_email, follow_up)

    assert again.message_id == first.message_id
    assert len(relay.received) == 2, f"relay received {len(relay.received)} messages"
    second = parse(relay.received[1].content)
    assert second["In-Reply-To"] == first.message_id and second["References"] == first.message_id


def test_starttls_and_login_when_configured(
    relay: Relay, tls_port: int, certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    smtp = SmtpConfig(
        host="127.0.0.1", port=tls_port, starttls=True, ca_file=certificate[0], username="touchpoint", password="s3cret"
    )

    ActivityEnvironment().run(smtp_emails(config_for(tmp_path, smtp)).send_email, make_touch(dana()))

    [got] = relay.received
    assert got.tls and got.authenticated


def test_a_wrong_password_makes_sends_wait_rather_than_fail_the_lead(
    relay: Relay, tls_port: int, certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    smtp = SmtpConfig(
        host="127.0.0.1", port=tls_port, starttls=True, ca_file=certificate[0], username="touchpoint", password="wrong",
        timeout_seconds=5,
    )
    config = config_for(tmp_path, smtp)
    touch = make_touch(dana())

    with pytest.raises(ApplicationError) as raised:
        ActivityEnvironment().run(smtp_emails(config).send_email, touch)

    assert raised.value.type == DELIVERY_DEFERRED and not raised.value.non_retryable
    assert raised.value.next_retry_delay == timedelta(minutes=15)
    assert "password" in raised.value.message and "s3cret" not in raised.value.message
    assert relay.received == []
    assert SqliteSendLedger(ledger_file(config)).claim(
        touch.send_key, lead_id="crm-0042", channel="email", now=FakeClock()()
    ).status == ClaimStatus.FRESH


@pytest.mark.parametrize(
    ("reply", "error_type", "non_retryable"),
    [
        ("550 5.1.1 <dana@acme.example>: mailbox unavailable", DELIVERY_REJECTED, True),
        ("451 4.3.0 try again later", DELIVERY_DEFERRED, False),
    ],
)
def test_a_refused_recipient_is_rejected_or_deferred_by_its_reply_code(
    relay: Relay, plain_port: int, tmp_path: Path, reply: str, error_type: str, non_retryable: bool
) -> None:
    relay.refuse["dana@acme.example"] = reply
    config = config_for(tmp_path, SmtpConfig(host="127.0.0.1", port=plain_port, starttls=False))

    with pytest.raises(ApplicationError) as raised:
        ActivityEnvironment().run(smtp_emails(config).send_email, make_touch(dana()))

    assert raised.value.type == error_type and raised.value.non_retryable == non_retryable
    assert "RCPT TO" in raised.value.message and reply[:3] in raised.value.message
    assert "dana@acme.example" not in raised.value.message
    assert relay.received == []


def test_no_relay_listening_is_retried_and_the_key_stays_free(tmp_path: Path) -> None:
    config = config_for(tmp_path, SmtpConfig(host="127.0.0.1", port=_free_port(), starttls=False, timeout_seconds=2))
    touch = make_touch(dana())

    with pytest.raises(ApplicationError) as raised:
        ActivityEnvironment().run(smtp_emails(config).send_email, touch)

    assert raised.value.type == DELIVERY_DEFERRED and not raised.value.non_retryable
    assert SqliteSendLedger(ledger_file(config)).claim(
        touch.send_key, lead_id="crm-0042", channel="email", now=FakeClock()()
    ).status == ClaimStatus.FRESH


def test_a_lost_answer_to_data_leaves_the_send_in_doubt(relay: Relay, plain_port: int, tmp_path: Path) -> None:
    relay.stall_data_seconds = 3
    clock = FakeClock()
    config = config_for(tmp_path, SmtpConfig(host="127.0.0.1", port=plain_port, starttls=False, timeout_seconds=1))
    emails = smtp_emails(config, clock)
    touch = make_touch(dana())

    with pytest.raises(ApplicationError) as lost:
        ActivityEnvironment().run(emails.send_email, touch)
    clock.advance(timedelta(seconds=30))
    with pytest.raises(ApplicationError) as retried:
        ActivityEnvironment().run(emails.send_email, touch)

    assert lost.value.type == SEND_IN_DOUBT and not lost.value.non_retryable
    assert retried.value.type == SEND_IN_DOUBT
    assert "waiting for reconciliation" in retried.value.message
    assert len(relay.received) == 1, f"relay received {len(relay.received)} messages"
