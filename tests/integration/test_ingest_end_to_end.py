"""Events through SNS → SQS (moto) → `touchpoint ingest` → real lead workflows (dev server).

A reply, a bounce, a complaint, an unsubscribe, an out-of-office, an SMS STOP and a
burst of scanner clicks each move the right lead as designed; and a second set of the
same leads, given every event three times in shuffled order, ends in the same state
as the set given each event once, in order.
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from temporalio.worker import Worker

from activities.common.phones import phone_key
from activities.common.tokens import make_reply_address
from activities.inbound.config import IngestConfig
from activities.inbound.consumer import Ingestor
from activities.stores.ledger import SqliteSendLedger
from starter.client import TouchpointClient
from starter.errors import LeadClosed
from tests.activities.inbound.test_consumer import received, reply_mail
from tests.support.aws import queued
from tests.support.inbound_messages import BROWSER, inbound_sms, ses_event
from tests.workflows.fakes import Recorder
from workers.ingest import SignalSender
from workflows.lead import LeadWorkflow
from workflows.models import EnrollLead, Mode, Outcome
from workflows.sandbox import workflow_runner

REGION = "us-east-1"
SECRET = "0123456789abcdef0123456789abcdef"


def leads(suffix: str) -> dict[str, dict[str, Any]]:
    def lead(name: str, mode: str, **extra: Any) -> dict[str, Any]:
        return {
            "lead": {"id": f"{name}-{suffix}", "email": f"{name}@acme.example", "owner": "rep-7",
                     "timezone": "America/Chicago", **extra},
            "mode": mode,
            "follow_up_cadence": "dunning" if "phone" in extra else "follow-up",
        }

    return {
        "interested": lead("interested", "nurture"),
        "bounced": lead("bounced", "follow_up"),
        "complained": lead("complained", "follow_up"),
        "unsubscribed": lead("unsubscribed", "nurture"),
        "away": lead("away", "follow_up"),
        "texter": lead("texter", "follow_up", phone="+14255550182", sms_consent=True),
        "scanned": lead("scanned", "nurture"),
    }


def events_for(lead_ids: dict[str, str]) -> list[tuple[str, str]]:
    """(queue kind, SNS message) per event, in the order they happened: sent an hour
    ago, the scanner's clicks a moment ago (so the consumer lets their burst settle)."""
    now = datetime.now(UTC)
    sent_at = now - timedelta(hours=1)

    def ses(kind: str, lead: str, message: str, **overrides: Any) -> tuple[str, str]:
        record = ses_event(kind, lead_id=lead_ids[lead], send_key=f"{lead_ids[lead]}:00001:day-1-case-study",
                           message_id=f"{message}-{lead_ids[lead]}", sent_at=sent_at, **overrides)
        return "events", json.dumps(record)

    def reply(lead: str, body: str, message: str, headers: str = "") -> tuple[str, str]:
        to = make_reply_address(lead_ids[lead], SECRET, "reply.harborview.example")
        raw = reply_mail(to, body, extra_headers=headers)
        return "replies", json.loads(received(raw, message_id=f"{message}-{lead_ids[lead]}"))["Message"]

    back = (date.today() + timedelta(days=20)).strftime("%A, %B %-d, %Y")
    burst_at = now - timedelta(seconds=1)
    return [
        ses("Delivery", "interested", "m1"),
        reply("interested", "This looks interesting. Can you send me pricing for 40 trucks?", "r1"),
        ses("Delivery", "bounced", "m2"),
        ses("Bounce", "bounced", "m2"),
        ses("Delivery", "complained", "m3"),
        ses("Complaint", "complained", "m3"),
        ses("Delivery", "unsubscribed", "m4"),
        ses("Subscription", "unsubscribed", "m4"),
        ses("Delivery", "away", "m5"),
        reply("away", f"I am out of the office until {back} with limited access to email.", "r2",
              headers="Auto-Submitted: auto-replied\r\n"),
        ("sms", json.dumps(inbound_sms("STOP", from_number="+14255550182", inbound_id=f"sms-{lead_ids['texter']}"))),
        ses("Delivery", "scanned", "m6"),
        *[
            ses("Click", "scanned", "m6", at=burst_at + timedelta(milliseconds=150 * n),
                click={"link": f"https://harborview.example/case-study/{n}", "userAgent": BROWSER})
            for n in range(3)
        ],
        ses("Click", "scanned", "m6", at=burst_at + timedelta(milliseconds=600),
            click={"link": "https://harborview.example/case-study/0", "userAgent": "Mimecast URL Protect"}),
    ]


async def publish(sns: Any, topics: dict[str, str], events: list[tuple[str, str]]) -> None:
    for kind, message in events:
        sns.publish(TopicArn=topics[kind], Message=message)


async def run_until_empty(ingestor: Ingestor, sqs: Any, queue_urls: dict[str, str]) -> None:
    """Poll until every queue is empty, deferred clicks included."""
    while True:
        for kind in queue_urls:
            while await ingestor.poll(kind):
                pass
        if sum(queued(sqs, url) for url in queue_urls.values()) == 0:
            return
        await asyncio.sleep(0.5)


def summary(state: Any) -> dict[str, Any]:
    return {
        "mode": state.mode,
        "outcome": state.outcome,
        "human_clicks": state.human_clicks,
        "sms_opted_out": state.sms_opted_out,
        "paused_until": state.paused_until.date() if state.paused_until else None,
        "open_tasks": len(state.open_tasks),
    }


async def test_events_through_the_queues_move_each_lead_and_repeats_change_nothing(
    aws, aws_client, tmp_path, dev_server
):
    sqs, sns = aws_client("sqs"), aws_client("sns")
    queue_urls: dict[str, str] = {}
    topics: dict[str, str] = {}
    for kind in ("events", "replies", "sms"):
        queue_urls[kind] = sqs.create_queue(QueueName=f"e2e-{kind}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue_urls[kind], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        topics[kind] = sns.create_topic(Name=f"e2e-{kind}")["TopicArn"]
        sns.subscribe(TopicArn=topics[kind], Protocol="sqs", Endpoint=arn)
    dlq = sqs.create_queue(QueueName="e2e-dlq")["QueueUrl"]
    ledger = SqliteSendLedger(tmp_path / "ledger.sqlite3")

    task_queue = f"e2e-{uuid.uuid4()}"
    recorder = Recorder()
    async with Worker(dev_server.client, task_queue=task_queue, workflows=[LeadWorkflow],
                      activities=recorder.activities(), workflow_runner=workflow_runner()):
        client = TouchpointClient(dev_server.client, task_queue=task_queue)
        once, thrice = leads("a"), leads("b")
        for group in (once, thrice):
            for enroll in group.values():
                await client.enroll(EnrollLead.model_validate(enroll))
            ledger.record_recipient("sms", phone_key("+14255550182"), group["texter"]["lead"]["id"])
        ingestor = Ingestor(
            IngestConfig(region=REGION, endpoint_url=aws, events_queue_url=queue_urls["events"],
                         replies_queue_url=queue_urls["replies"], sms_queue_url=queue_urls["sms"],
                         dead_letter_queue_url=dlq, wait_seconds=0, click_settle_seconds=3,
                         verify_sns_signatures=False),  # moto's SNS does not sign with a real key
            sqs=sqs, send=SignalSender(client), ledger=ledger, reply_secrets=[SECRET],
        )
        ids_a = {name: e["lead"]["id"] for name, e in once.items()}
        ids_b = {name: e["lead"]["id"] for name, e in thrice.items()}
        # Set A: each event once, in order. Set B: three copies, shuffled (the STOP
        # text is from the same number for both sets: it reaches both texters).
        await publish(sns, topics, events_for(ids_a))
        await run_until_empty(ingestor, sqs, queue_urls)
        repeated = [e for e in events_for(ids_b) if e[0] != "sms"] * 3
        random.Random(7).shuffle(repeated)
        await publish(sns, topics, repeated)
        await run_until_empty(ingestor, sqs, queue_urls)

        async def final(lead_id: str) -> Any:
            try:
                return await client.state(lead_id)
            except LeadClosed:
                return await dev_server.client.get_workflow_handle(f"lead-{lead_id}").result()

        states_a = {name: await final(lead_id) for name, lead_id in ids_a.items()}
        states_b = {name: await final(lead_id) for name, lead_id in ids_b.items()}

    a = states_a
    assert a["interested"].mode == Mode.FOLLOW_UP and a["interested"].open_tasks, a["interested"].transitions
    assert (a["bounced"].mode, a["bounced"].outcome) == (Mode.CLOSED, Outcome.BOUNCED)
    assert (a["complained"].mode, a["complained"].outcome) == (Mode.CLOSED, Outcome.COMPLAINED)
    assert (a["unsubscribed"].mode, a["unsubscribed"].outcome) == (Mode.CLOSED, Outcome.UNSUBSCRIBED)
    # "out of the office until <day>": back, and paused until, the morning after.
    assert a["away"].mode == Mode.PAUSED and a["away"].paused_until.date() == date.today() + timedelta(days=21)
    assert a["texter"].sms_opted_out and a["texter"].mode == Mode.FOLLOW_UP
    assert a["scanned"].mode == Mode.NURTURE and a["scanned"].human_clicks == {}
    # 4 scanner clicks per set, judged again for each of set B's copies (signalled once).
    assert ingestor.stats["scanner_clicks"] == 4 + 4 * 3
    assert ingestor.stats["dead_lettered"] == 0

    assert {n: summary(s) for n, s in states_b.items()} == {n: summary(s) for n, s in states_a.items()}
    # Every state change of set B happened once: the same transitions as set A.
    for name in states_a:
        assert [t.to_mode for t in states_b[name].transitions] == [t.to_mode for t in states_a[name].transitions], name
