"""Only messages SNS signed reach a lead: a forged bounce, click or confirmation is
dead-lettered with the reason before anything in it is read (no signal, no ledger write).

The signing certificate is a self-signed one made here and served by a fake fetcher for
the pinned URL; nothing goes to the network."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from structlog.testing import capture_logs

from activities.inbound.config import IngestConfig
from activities.inbound.consumer import Ingestor
from activities.inbound.sns_signatures import SignatureInvalid, SnsVerifier
from tests.activities.inbound.ingest_queues import REGION, Queues, drain, fresh_queues
from tests.support.inbound_messages import (
    LEAD_ID, SENT_AT, TOPIC_ARN, ses_event, sns_envelope, sns_subscription_confirmation,
)  # fmt: skip

CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000000000000a.pem"


class Signer:
    """An RSA key and its self-signed certificate, standing in for SNS's."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .sign(self.key, hashes.SHA256())
        )
        self.pem = certificate.public_bytes(serialization.Encoding.PEM)

    def sign(self, body: str, *, version: str = "1", url: str = CERT_URL) -> str:
        """`body` (an SNS message as the fixtures build it) signed as SNS signs it."""
        envelope = json.loads(body)
        envelope.update(SignatureVersion=version, SigningCertURL=url)
        if envelope["Type"] == "Notification":
            keys = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
        else:
            keys = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
        canonical = "".join(f"{k}\n{envelope[k]}\n" for k in keys if k in envelope).encode()
        digest = hashes.SHA1() if version == "1" else hashes.SHA256()
        envelope["Signature"] = base64.b64encode(self.key.sign(canonical, padding.PKCS1v15(), digest)).decode()
        return json.dumps(envelope)


class Fetcher:
    """Serves the certificate for the pinned URLs it was given; counts its fetches."""

    def __init__(self, certificates: dict[str, bytes]) -> None:
        self.certificates = certificates
        self.fetched: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.fetched.append(url)
        if url not in self.certificates:
            raise OSError(f"HTTP Error 404: Not Found ({url})")
        return self.certificates[url]


@pytest.fixture(scope="module")
def sns() -> Signer:
    return Signer()


@pytest.fixture
def queues(moto_endpoint, monkeypatch, tmp_path) -> Queues:
    return fresh_queues(moto_endpoint, monkeypatch, tmp_path)


@pytest.fixture
def fetcher(sns: Signer) -> Fetcher:
    return Fetcher({CERT_URL: sns.pem})


# The fixtures' envelopes are signed at SENT_AT (their clicks a day later); read two days on.
READ_AT = SENT_AT + timedelta(days=2)


def verifying(queues: Queues, fetcher: Fetcher, **overrides: Any) -> Ingestor:
    options = {"verify_sns_signatures": True, "fetch_certificate": fetcher, "clock": lambda: READ_AT, **overrides}
    return queues.ingestor(**options)


def clicked(n: int) -> str:
    at = datetime(2026, 3, 2, 15, 0, tzinfo=UTC) + timedelta(days=1, minutes=n)
    return sns_envelope(ses_event("Click", message_id=f"m-click-{n}", at=at))


async def test_a_forged_bounce_is_dead_lettered_and_closes_nothing(queues, fetcher):
    forger = Signer()  # a valid signature, by a key that is not SNS's
    ingestor = verifying(queues, fetcher)
    queues.put("events", forger.sign(sns_envelope(ses_event("Bounce"))))
    made_up = json.loads(sns_envelope(ses_event("Bounce")))  # the fixtures' made-up signature
    queues.put("events", json.dumps({**made_up, "SigningCertURL": CERT_URL}))
    await drain(ingestor, "events")

    assert queues.sent.signals == [] and queues.ledger.opt_out(LEAD_ID) is None
    reasons = queues.reasons()
    assert len(reasons) == 2
    assert all(r.startswith("events message failed the SNS signature check: ") for r in reasons), reasons
    assert queues.left("events") == 0 and ingestor.stats["dead_lettered"] == 2


async def test_forged_clicks_move_no_lead(queues, fetcher):
    forger = Signer()
    ingestor = verifying(queues, fetcher)
    for n in range(2):
        queues.put("events", forger.sign(clicked(n)))
    await drain(ingestor, "events")
    assert queues.sent.signals == [] and len(queues.reasons()) == 2


async def test_signed_messages_are_signalled_under_both_signature_versions(queues, fetcher, sns):
    ingestor = verifying(queues, fetcher)
    queues.put("events", sns.sign(sns_envelope(ses_event("Bounce")), version="1"))
    queues.put("events", sns.sign(clicked(1), version="2"))
    await drain(ingestor, "events")

    assert sorted(s.payload["kind"] for s in queues.sent.signals) == ["bounce", "click"]
    assert queues.ledger.opt_out(LEAD_ID).reason == "bounce"
    assert queues.reasons() == [] and ingestor.stats["unverified"] == 0
    assert fetcher.fetched == [CERT_URL]  # fetched once, then kept


async def test_a_message_changed_after_signing_is_refused(queues, fetcher, sns):
    ingestor = verifying(queues, fetcher)
    signed = json.loads(sns.sign(sns_envelope(ses_event("Delivery"))))
    signed["Message"] = json.dumps(ses_event("Bounce"))
    queues.put("events", json.dumps(signed))
    await drain(ingestor, "events")
    (reason,) = queues.reasons()
    assert "does not match the message" in reason and queues.sent.signals == []


@pytest.mark.parametrize(
    "url",
    [
        "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem",
        "https://sns.us-east-1.amazonaws.com.attacker.example/SimpleNotificationService-1.pem",
        "https://attacker.example/sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem",
        "https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-1.pem",
        "https://user@sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem",
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-1.txt",
        "https://s3.us-east-1.amazonaws.com/SimpleNotificationService-1.pem",
    ],
)
async def test_a_certificate_from_anywhere_but_sns_is_never_fetched(url, sns):
    fetcher = Fetcher({url: sns.pem})
    with pytest.raises(SignatureInvalid, match="SigningCertURL"):
        await SnsVerifier(fetcher).verify(json.loads(sns.sign(sns_envelope(ses_event("Bounce")), url=url)))
    assert fetcher.fetched == []


@pytest.mark.parametrize(
    "url",
    [
        "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-1.pem",
        "https://sns.us-gov-west-1.amazonaws.com/SimpleNotificationService-1.pem",
        "https://sns.ap-southeast-2.amazonaws.com/SimpleNotificationService-1.pem",
    ],
)
async def test_every_partitions_sns_host_is_accepted(url, sns):
    fetcher = Fetcher({url: sns.pem})
    await SnsVerifier(fetcher).verify(json.loads(sns.sign(sns_envelope(ses_event("Bounce")), url=url)))
    assert fetcher.fetched == [url]


async def test_a_raw_message_without_an_envelope_is_refused_and_says_why(queues, fetcher):
    ingestor = verifying(queues, fetcher)
    queues.put("events", ses_event("Bounce"))
    await drain(ingestor, "events")
    (reason,) = queues.reasons()
    assert "no SNS envelope" in reason and "RawMessageDelivery" in reason
    assert queues.sent.signals == [] and queues.ledger.opt_out(LEAD_ID) is None


async def test_subscription_confirmations_are_checked_too(queues, fetcher, sns):
    ingestor = verifying(queues, fetcher)
    queues.put("events", sns.sign(sns_subscription_confirmation()))
    queues.put("events", Signer().sign(sns_subscription_confirmation()))
    await drain(ingestor, "events")
    reasons = sorted(queues.reasons())
    assert len(reasons) == 2
    assert reasons[0].startswith("events message failed the SNS signature check: ")
    assert reasons[1].startswith("unreadable events message: SNS asks to confirm the subscription")


async def test_every_queue_is_checked(queues, fetcher):
    ingestor = verifying(queues, fetcher)
    forger = Signer()
    queues.put("replies", forger.sign(sns_envelope({"notificationType": "Received", "mail": {"messageId": "x"}})))
    queues.put("sms", forger.sign(sns_envelope({"originationNumber": "+14255550182", "messageBody": "STOP"})))
    for kind in ("replies", "sms"):
        await drain(ingestor, kind)
    reasons = sorted(queues.reasons())
    assert [r.split(" ")[0] for r in reasons] == ["replies", "sms"]
    assert all("SNS signature check" in r for r in reasons)


async def test_when_the_certificate_cannot_be_fetched_the_message_waits(queues, sns):
    ingestor = verifying(queues, Fetcher({}), max_receives=2)
    queues.put("events", sns.sign(sns_envelope(ses_event("Bounce"))))
    await ingestor.poll("events")
    assert ingestor.stats["retried"] == 1 and queues.reasons() == []
    await asyncio.sleep(1.2)  # the queue's visibility timeout
    await ingestor.poll("events")
    (reason,) = queues.reasons()
    assert "failed 2 times, last: CertificateUnavailable: cannot fetch SNS's certificate" in reason


def test_verification_on_needs_a_certificate_fetcher():
    config = IngestConfig(
        region=REGION, events_queue_url="https://sqs.example/e", dead_letter_queue_url="https://sqs.example/d"
    )
    assert config.verify_sns_signatures is True  # the default
    with pytest.raises(ValueError, match="pass fetch_certificate"):
        Ingestor(config, sqs=None, send=None, ledger=None, reply_secrets=[])


async def test_verification_off_warns_at_start_and_counts_every_message(queues):
    ingestor = queues.ingestor(verify_sns_signatures=False)
    queues.put("events", sns_envelope(ses_event("Delivery")))
    queues.put("sms", ses_event("Delivery"))
    stop = asyncio.Event()
    stop.set()
    with capture_logs() as logs:
        await ingestor.run(stop)
    (warning,) = [e for e in logs if e["log_level"] == "warning" and "SNS signatures" in e["event"]]
    assert "verify_sns_signatures is false" in warning["event"]
    await drain(ingestor, "events")
    await drain(ingestor, "sms")
    assert ingestor.stats["unverified"] == ingestor.stats["received"] == 2


async def test_a_signed_message_from_a_topic_not_allow_listed_is_refused(queues, fetcher, sns):
    ingestor = verifying(queues, fetcher, sns_topic_arns=[TOPIC_ARN])
    other = "arn:aws:sns:us-east-1:210987654321:someone-elses-events"
    queues.put("events", sns.sign(sns_envelope(ses_event("Bounce"), topic_arn=other)))
    queues.put("events", sns.sign(clicked(1)))
    await drain(ingestor, "events")

    (reason,) = queues.reasons()
    assert "not one of sns_topic_arns" in reason and other in reason
    assert [s.payload["kind"] for s in queues.sent.signals] == ["click"]
    assert queues.ledger.opt_out(LEAD_ID) is None


@pytest.mark.parametrize(
    ("read_at", "words"),
    [(SENT_AT + timedelta(days=5), "more than sns_max_age_hours (96) ago"), (SENT_AT - timedelta(hours=1), "ahead of")],
)
async def test_an_old_or_future_signed_message_is_refused_as_a_replay(queues, fetcher, sns, read_at, words):
    ingestor = verifying(queues, fetcher, clock=lambda: read_at)
    queues.put("events", sns.sign(sns_envelope(ses_event("Bounce"))))
    await drain(ingestor, "events")

    (reason,) = queues.reasons()
    assert words in reason
    assert queues.sent.signals == [] and queues.ledger.opt_out(LEAD_ID) is None


async def test_a_longer_window_takes_a_message_a_queue_kept_for_days(queues, fetcher, sns):
    ingestor = verifying(queues, fetcher, clock=lambda: SENT_AT + timedelta(days=5), sns_max_age_hours=14 * 24)
    queues.put("events", sns.sign(sns_envelope(ses_event("Bounce"))))
    await drain(ingestor, "events")
    assert [s.payload["kind"] for s in queues.sent.signals] == ["bounce"] and queues.reasons() == []


def test_a_topic_arn_that_is_not_one_is_refused_in_the_settings():
    with pytest.raises(ValueError, match="sns_topic_arns"):
        IngestConfig(region="us-east-1", events_queue_url="http://q/e", dead_letter_queue_url="http://q/d",
                     sns_topic_arns=["touchpoint-ses-events"])  # fmt: skip
