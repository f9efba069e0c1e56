"""The ingestion consumer against SQS (and S3) on moto: what it deletes, dead-letters,
defers, retries and signals. Temporal is replaced by a recording `send`; the end-to-end
tests (tests/integration/test_ingest_end_to_end.py) run the same consumer against real workflows."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from activities.common.phones import phone_key
from activities.common.tokens import address_key, make_reply_address
from activities.inbound.config import IngestConfig
from activities.inbound.consumer import ClosedLead, Ingestor, NoSuchLead
from activities.inbound.ses_events import Signal
from activities.stores.ledger import SqliteSendLedger
from starter.errors import TemporalUnavailable
from tests.support.aws import queued
from tests.support.inbound_messages import BROWSER, MESSAGE_ID, SEND_KEY, inbound_sms, ses_event, sns_envelope

REGION = "us-east-1"
SECRET = "0123456789abcdef0123456789abcdef"


@dataclass
class Sent:
    """A stand-in for Temporal: records signals, or fails the way SignalSender does."""

    signals: list[Signal] = field(default_factory=list)
    unknown: set[str] = field(default_factory=set)
    closed: set[str] = field(default_factory=set)
    down: bool = False

    async def __call__(self, signal: Signal) -> None:
        if self.down:
            raise TemporalUnavailable("127.0.0.1:7233")
        if signal.lead_id in self.unknown:
            raise NoSuchLead(signal.lead_id)
        if signal.lead_id in self.closed:
            raise ClosedLead(signal.lead_id)
        self.signals.append(signal)


@dataclass
class Queues:
    sqs: Any
    events: str
    replies: str
    sms: str
    dlq: str

    def put(self, url: str, body: str | dict) -> None:
        self.sqs.send_message(QueueUrl=url, MessageBody=body if isinstance(body, str) else json.dumps(body))

    def drain(self, url: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, MessageAttributeNames=["All"]
            ).get("Messages", [])
            if not batch:
                return found
            found.extend(batch)
            for message in batch:
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    def count(self, url: str) -> int:
        return queued(self.sqs, url)


@pytest.fixture
def queues(aws: str, aws_client) -> Queues:
    sqs = aws_client("sqs")
    urls = {
        name: sqs.create_queue(QueueName=f"touchpoint-{name}", Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
        for name in ("events", "replies", "sms", "dlq")
    }
    return Queues(sqs=sqs, **urls)


@pytest.fixture
def ledger(tmp_path: Path) -> SqliteSendLedger:
    return SqliteSendLedger(tmp_path / "ledger.sqlite3")


@pytest.fixture
def sent() -> Sent:
    return Sent()


def make_ingestor(queues: Queues, aws: str, ledger, sent: Sent, aws_client=None, **overrides) -> Ingestor:
    config = IngestConfig(
        region=REGION,
        endpoint_url=aws,
        events_queue_url=queues.events,
        replies_queue_url=queues.replies,
        sms_queue_url=queues.sms,
        dead_letter_queue_url=queues.dlq,
        wait_seconds=0,
        verify_sns_signatures=False,  # moto's SNS does not sign with a real key
        **overrides,
    )
    return Ingestor(
        config,
        sqs=queues.sqs,
        s3=aws_client("s3") if aws_client else None,
        send=sent,
        ledger=ledger,
        reply_secrets=[SECRET],
    )


async def drain(ingestor: Ingestor, kind: str) -> None:
    while await ingestor.poll(kind):
        pass


# --------------------------------------------------------------- SES events


async def test_an_event_is_signalled_to_its_lead_then_deleted(queues, aws, ledger, sent):
    ingestor = make_ingestor(queues, aws, ledger, sent)
    queues.put(queues.events, sns_envelope(ses_event("Bounce")))
    await drain(ingestor, "events")

    assert [(s.lead_id, s.name, s.payload["kind"], s.payload["permanent"]) for s in sent.signals] == [
        ("crm-0042", "delivery", "bounce", True)
    ]
    assert queues.count(queues.events) == 0
    # A permanent bounce also stops email at the ledger, whatever the workflow does.
    assert ledger.opt_out("crm-0042").reason == "bounce"


async def test_a_send_event_reconciles_the_ledger_and_signals_nothing(queues, aws, ledger, sent):
    ingestor = make_ingestor(queues, aws, ledger, sent)
    queues.put(queues.events, sns_envelope(ses_event("Send")))
    await drain(ingestor, "events")
    assert sent.signals == []
    assert ledger.send_for_message(MESSAGE_ID) == SEND_KEY
    assert ingestor.stats["received"] == 1 and queues.count(queues.events) == 0


async def test_a_message_it_cannot_parse_goes_to_the_dead_letter_queue_with_the_reason(queues, aws, ledger, sent):
    ingestor = make_ingestor(queues, aws, ledger, sent)
    queues.put(queues.events, "this is not json")
    queues.put(queues.events, sns_envelope({"mail": {"messageId": "m-1"}}))
    await drain(ingestor, "events")

    dead = queues.drain(queues.dlq)
    reasons = sorted(m["MessageAttributes"]["reason"]["StringValue"] for m in dead)
    assert len(dead) == 2 and sent.signals == []
    assert all(r.startswith("unreadable events message: ") for r in reasons)
    assert any("eventType" in r for r in reasons), reasons
    assert {m["Body"] for m in dead} >= {"this is not json"}  # the original, untouched
    assert queues.count(queues.events) == 0


async def test_events_for_unknown_closed_or_foreign_leads_are_counted_and_deleted(queues, aws, ledger, sent):
    sent.unknown.add("ghost-1")
    sent.closed.add("gone-1")
    ingestor = make_ingestor(queues, aws, ledger, sent)
    queues.put(queues.events, sns_envelope(ses_event("Delivery", lead_id="ghost-1")))
    queues.put(queues.events, sns_envelope(ses_event("Delivery", lead_id="gone-1")))
    queues.put(queues.events, sns_envelope(ses_event("Delivery", lead_id=None)))
    await drain(ingestor, "events")

    assert ingestor.stats["unknown_lead"] == 1
    assert ingestor.stats["closed_lead"] == 1
    assert ingestor.stats["not_ours"] == 1
    assert queues.count(queues.events) == 0 and queues.drain(queues.dlq) == []


async def test_when_temporal_is_down_the_message_stays_then_dead_letters_after_max_receives(queues, aws, ledger, sent):
    sent.down = True
    ingestor = make_ingestor(queues, aws, ledger, sent, max_receives=3)
    queues.put(queues.events, sns_envelope(ses_event("Delivery")))
    for _ in range(3):
        await ingestor.poll("events")
        await asyncio.sleep(1.2)  # the queue's visibility timeout
    assert ingestor.stats["retried"] == 2
    dead = queues.drain(queues.dlq)
    assert len(dead) == 1
    assert "failed 3 times, last: TemporalUnavailable" in dead[0]["MessageAttributes"]["reason"]["StringValue"]


async def test_a_redelivered_event_is_signalled_once(queues, aws, ledger, sent):
    ingestor = make_ingestor(queues, aws, ledger, sent)
    body = sns_envelope(ses_event("Delivery"))
    for _ in range(3):
        queues.put(queues.events, body)
    await drain(ingestor, "events")
    assert len(sent.signals) == 1 and ingestor.stats["duplicates"] == 2


async def test_a_young_click_is_put_back_until_its_burst_has_arrived(queues, aws, ledger, sent):
    now = datetime.now(UTC)
    ingestor = make_ingestor(queues, aws, ledger, sent, click_settle_seconds=2)
    queues.put(queues.events, sns_envelope(ses_event("Click", at=now - timedelta(seconds=1), sent_at=now - timedelta(hours=1))))
    await ingestor.poll("events")
    assert sent.signals == [] and ingestor.stats["deferred"] == 1
    await asyncio.sleep(2.2)
    await drain(ingestor, "events")
    assert len(sent.signals) == 1 and sent.signals[0].payload["automated"] is False


async def test_scanner_clicks_are_signalled_as_automated(queues, aws, ledger, sent):
    ingestor = make_ingestor(queues, aws, ledger, sent, click_settle_seconds=0)
    at = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    # A burst: three links of one message in the same second, by a browser-like agent.
    for n in range(3):
        queues.put(
            queues.events,
            sns_envelope(ses_event("Click", at=at + timedelta(milliseconds=200 * n),
                                   click={"link": f"https://harborview.example/{n}", "userAgent": BROWSER})),
        )
    # A known scanner's user agent, an hour later.
    queues.put(
        queues.events,
        sns_envelope(ses_event("Click", at=at + timedelta(hours=1),
                               click={"link": "https://harborview.example/0", "userAgent": "Barracuda Sentinel (EE)"})),
    )
    # A person, a day later.
    queues.put(
        queues.events,
        sns_envelope(ses_event("Click", at=at + timedelta(days=1),
                               click={"link": "https://harborview.example/0", "userAgent": BROWSER})),
    )
    await drain(ingestor, "events")
    flags = sorted((s.payload["at"], s.payload["automated"]) for s in sent.signals)
    assert [automated for _, automated in flags] == [True, True, True, True, False]
    assert ingestor.stats["scanner_clicks"] == 4


# ------------------------------------------------------------------- replies


def received(raw: str, *, message_id: str = "inbound-0001", encoding: str = "UTF8", s3: tuple[str, str] | None = None,
             envelope: list[str] | None = None) -> str:
    """An SES receipt-rule notification (SNS action, or S3 action for large mail)."""
    import base64

    action: dict[str, Any] = {"type": "SNS", "topicArn": "arn:aws:sns:us-east-1:123456789012:touchpoint-replies",
                              "encoding": encoding}
    notification: dict[str, Any] = {
        "notificationType": "Received",
        "receipt": {"timestamp": "2026-11-23T10:00:00.000Z", "recipients": envelope or ["replies@harborview.example"],
                    "spamVerdict": {"status": "PASS"}, "virusVerdict": {"status": "PASS"}, "action": action},
        "mail": {"timestamp": "2026-11-23T10:00:00.000Z", "source": "dana@acme.example", "messageId": message_id,
                 "destination": ["replies@harborview.example"]},
    }
    if s3:
        notification["receipt"]["action"] = {"type": "S3", "topicArn": action["topicArn"],
                                             "bucketName": s3[0], "objectKey": s3[1]}
    else:
        notification["content"] = base64.b64encode(raw.encode()).decode() if encoding == "BASE64" else raw
    return sns_envelope(notification)


def reply_mail(to: str, body: str, *, extra_headers: str = "") -> str:
    return (
        "From: Dana Reyes <dana@acme.example>\r\n"
        f"To: {to}\r\n"
        "Subject: Re: dispatch with three people\r\n"
        "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
        "Message-ID: <CAFx1@mail.gmail.com>\r\n"
        f"{extra_headers}"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=UTF-8\r\n\r\n"
        f"{body}\r\n"
    )


async def test_a_reply_to_the_signed_address_reaches_its_lead_classified(queues, aws, ledger, sent):
    ingestor = make_ingestor(queues, aws, ledger, sent)
    to = make_reply_address("crm-0042", SECRET, "reply.harborview.example")
    queues.put(queues.replies, received(reply_mail(to, "Please remove me from your list.\r\n\r\nOn Mon, Nov 23, 2026 at 9:00 AM Sales <s@h.example> wrote:\r\n> pricing?")))
    await drain(ingestor, "replies")
    (signal,) = sent.signals
    assert (signal.lead_id, signal.name) == ("crm-0042", "reply")
    assert signal.payload["intent"] == "unsubscribe"
    assert signal.payload["event_id"] == "reply:inbound-0001"
    assert "wrote:" not in signal.payload["text"]  # quoted history stripped
    assert "signed reply-to" in signal.payload["explanation"]


async def test_a_reply_is_matched_by_its_thread_when_the_address_is_not_signed(queues, aws, ledger, sent):
    ledger.mark_sent("crm-0777:00003:day-3-challenge", "0100019a-ses-000000")
    ledger.record_recipient("email", address_key("dana@acme.example", SECRET), "crm-0777")
    ingestor = make_ingestor(queues, aws, ledger, sent)
    mail = reply_mail(
        "sales@harborview.example",
        "Sounds interesting - can you send pricing?",
        extra_headers="In-Reply-To: <0100019a-ses-000000@email.amazonses.com>\r\n",
    )
    queues.put(queues.replies, received(mail, encoding="BASE64"))
    await drain(ingestor, "replies")
    (signal,) = sent.signals
    assert signal.lead_id == "crm-0777"
    assert signal.payload["intent"] in ("question", "positive")
    assert "thread" in signal.payload["explanation"]


async def test_a_reply_with_a_forged_from_and_no_token_or_thread_is_not_matched(queues, aws, ledger, sent):
    ingestor = make_ingestor(queues, aws, ledger, sent)
    forged = make_reply_address("crm-0042", "another-secret-entirely-0000000", "reply.harborview.example")
    queues.put(queues.replies, received(reply_mail(forged, "stop emailing me")))
    await drain(ingestor, "replies")
    assert sent.signals == [] and ingestor.stats["unmatched_reply"] == 1
    assert queues.count(queues.replies) == 0


async def test_the_envelope_recipient_matches_when_the_headers_do_not_name_it(queues, aws, ledger, sent):
    ingestor = make_ingestor(queues, aws, ledger, sent)
    envelope = make_reply_address("crm-0042", SECRET, "reply.harborview.example")
    queues.put(queues.replies, received(reply_mail("team@acme.example", "Thanks, can you send pricing?"), envelope=[envelope]))
    await drain(ingestor, "replies")
    (signal,) = sent.signals
    assert signal.lead_id == "crm-0042"


async def test_large_mail_is_read_from_s3(queues, aws, ledger, sent, aws_client):
    s3 = aws_client("s3")
    s3.create_bucket(Bucket="touchpoint-inbound")
    to = make_reply_address("crm-0042", SECRET, "reply.harborview.example")
    s3.put_object(Bucket="touchpoint-inbound", Key="mail/abc", Body=reply_mail(to, "Yes, let's set up a call next week.").encode())
    ingestor = make_ingestor(queues, aws, ledger, sent, aws_client=aws_client, inbound_buckets=["touchpoint-inbound"])
    queues.put(queues.replies, received("", s3=("touchpoint-inbound", "mail/abc")))
    await drain(ingestor, "replies")
    (signal,) = sent.signals
    assert signal.lead_id == "crm-0042" and signal.payload["intent"] in ("positive", "question")


async def test_a_reply_notification_without_mail_goes_to_the_dead_letter_queue(queues, aws, ledger, sent):
    ingestor = make_ingestor(queues, aws, ledger, sent)
    queues.put(queues.replies, sns_envelope({"notificationType": "Received", "mail": {"messageId": "x"}, "receipt": {}}))
    await drain(ingestor, "replies")
    (dead,) = queues.drain(queues.dlq)
    assert "neither 'content'" in dead["MessageAttributes"]["reason"]["StringValue"]


# ----------------------------------------------------------------------- SMS


async def test_sms_stop_reaches_every_lead_texted_at_that_number(queues, aws, ledger, sent):
    ledger.record_recipient("sms", phone_key("+14255550182"), "crm-1")
    ledger.record_recipient("sms", phone_key("+14255550182"), "crm-2")
    ingestor = make_ingestor(queues, aws, ledger, sent)
    queues.put(queues.sms, sns_envelope(inbound_sms("STOP", from_number="+14255550182")))
    queues.put(queues.sms, sns_envelope(inbound_sms("who is this?", from_number="+19995550100")))
    await drain(ingestor, "sms")
    assert sorted((s.lead_id, s.payload["kind"]) for s in sent.signals) == [
        ("crm-1", "sms_opt_out"), ("crm-2", "sms_opt_out"),
    ]
    assert ingestor.stats["unmatched_sms"] == 1


async def test_a_text_that_is_not_a_keyword_is_a_classified_reply(queues, aws, ledger, sent):
    ledger.record_recipient("sms", phone_key("+14255550182"), "crm-1")
    ingestor = make_ingestor(queues, aws, ledger, sent)
    queues.put(queues.sms, sns_envelope(inbound_sms("Not interested, we went with another vendor", from_number="+14255550182")))
    await drain(ingestor, "sms")
    (signal,) = sent.signals
    assert (signal.name, signal.payload["channel"], signal.payload["intent"]) == ("reply", "sms", "negative")
    assert signal.payload["explanation"]


# --------------------------------------------------------------------- crash


async def test_a_consumer_killed_mid_batch_loses_nothing_and_applies_nothing_twice(queues, aws, ledger, sent):
    """Killed at the 4th signal of a batch: nothing of that batch was deleted. A fresh
    consumer (no memory) finishes; the workflow's event-id check absorbs re-sent signals."""

    class Killed(BaseException):
        pass

    calls = 0

    async def dies_after_four(signal: Signal) -> None:
        nonlocal calls
        calls += 1
        await sent(signal)
        if calls == 4:
            raise Killed()

    for n in range(10):
        queues.put(queues.events, sns_envelope(ses_event("Delivery", message_id=f"m-{n}")))
    first = make_ingestor(queues, aws, ledger, sent)
    first._send = dies_after_four
    with pytest.raises(Killed):
        await first.poll("events")

    await asyncio.sleep(1.2)  # visibility timeout: SQS hands the undeleted ones out again
    second = make_ingestor(queues, aws, ledger, sent)
    await drain(second, "events")

    ids = [s.payload["event_id"] for s in sent.signals]
    assert sorted(set(ids)) == sorted(f"ses:m-{n}:delivery" for n in range(10))  # none lost
    # Only the batch in flight when it died is sent again (a batch is deleted once all its
    # signals are accepted); their event ids make the second signals no-ops.
    assert len(ids) - len(set(ids)) <= 10
    assert queues.count(queues.events) == 0
