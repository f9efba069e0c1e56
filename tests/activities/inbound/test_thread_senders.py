"""A reply matched by its thread alone (no signed reply-to) changes the lead only when it
comes from an address the lead was emailed at; otherwise it goes to the rep, no intent.
Thread ids are keyed, and replies to messages sent before that still find their thread."""

import hashlib
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from activities.common.tokens import address_key, make_reply_address
from activities.inbound.config import IngestConfig
from activities.inbound.judge import Deliver, Judge
from activities.stores.ledger import SqliteSendLedger
from tests.support.inbound_messages import sns_envelope

SECRET = "9f2c4e7a1b3d5f60718293a4b5c6d7e8"
OLD_SECRET = "0123456789abcdef0123456789abcdef"
SEND_KEY = "crm-0042:00001:day-1-case-study"
LEAD = "dana@acme.example"
QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/touchpoint-replies"
# What a Message-ID was before it was keyed: anyone could compute it from the send key.
GUESSED = f"<tp.{hashlib.sha256(SEND_KEY.encode()).hexdigest()[:32]}@harborview.example>"


def judge(ledger: SqliteSendLedger, secrets: list[str]) -> Judge:
    config = IngestConfig(region="us-east-1", replies_queue_url=QUEUE, dead_letter_queue_url=QUEUE + "-dlq")
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    return Judge(config, ledger=ledger, reply_secrets=secrets, s3=None, clock=lambda: now, stats=Counter())


def reply(sender: str, to: str, body: str, in_reply_to: str | None = None) -> str:
    thread = f"In-Reply-To: {in_reply_to}\r\n" if in_reply_to else ""
    raw = (
        f"From: {sender}\r\nTo: {to}\r\nSubject: Re: dispatch\r\n"
        f"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <x1@mail.example>\r\n{thread}"
        f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n{body}\r\n"
    )
    notification = {
        "notificationType": "Received",
        "receipt": {"recipients": [to], "action": {"type": "SNS", "encoding": "UTF8"}},
        "mail": {"timestamp": "2026-11-23T10:00:00.000Z", "messageId": "inbound-0001"},
        "content": raw,
    }
    return sns_envelope(notification)


@pytest.fixture
def ledger(tmp_path: Path) -> SqliteSendLedger:
    ledger = SqliteSendLedger(tmp_path / "ledger.sqlite3")
    ledger.mark_sent(SEND_KEY, GUESSED)
    return ledger


async def payload_of(judge: Judge, body: str) -> dict:
    outcome = await judge.outcome("replies", body)
    assert isinstance(outcome, Deliver)
    [signal] = outcome.signals
    assert signal.lead_id == "crm-0042"
    return signal.payload


async def test_a_forged_reply_quoting_the_thread_id_closes_nothing(ledger: SqliteSendLedger) -> None:
    ledger.record_recipient("email", address_key(LEAD, SECRET), "crm-0042")
    forged = reply("someone@elsewhere.example", "sales@harborview.example", "Please remove me.", GUESSED)

    payload = await payload_of(judge(ledger, [SECRET]), forged)

    assert payload["intent"] is None and payload["until"] is None
    assert "sender is not an address this lead was emailed at" in payload["explanation"]
    assert "someone@elsewhere.example" not in payload["explanation"]


async def test_the_same_reply_from_the_leads_address_applies(ledger: SqliteSendLedger) -> None:
    ledger.record_recipient("email", address_key(LEAD, SECRET), "crm-0042")
    genuine = reply(f"Dana Reyes <{LEAD.upper()}>", "sales@harborview.example", "Please remove me.", GUESSED)

    payload = await payload_of(judge(ledger, [SECRET]), genuine)

    # The thread id is one stored before ids were keyed: the ledger still maps it.
    assert payload["intent"] == "unsubscribe" and "matched by thread" in payload["explanation"]


async def test_an_address_recorded_under_the_old_secret_counts_while_it_rotates_out(
    ledger: SqliteSendLedger,
) -> None:
    ledger.record_recipient("email", address_key(LEAD, OLD_SECRET), "crm-0042")
    genuine = reply(LEAD, "sales@harborview.example", "Please remove me.", GUESSED)

    assert (await payload_of(judge(ledger, [SECRET, OLD_SECRET]), genuine))["intent"] == "unsubscribe"
    assert (await payload_of(judge(ledger, [SECRET]), genuine))["intent"] is None


async def test_a_signed_reply_to_needs_no_sender_check(ledger: SqliteSendLedger) -> None:
    to = make_reply_address("crm-0042", SECRET, "reply.harborview.example")
    assert to is not None

    payload = await payload_of(judge(ledger, [SECRET]), reply("team@acme.example", to, "Please remove me."))

    assert payload["intent"] == "unsubscribe" and "signed reply-to" in payload["explanation"]
