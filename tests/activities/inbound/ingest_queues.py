"""SQS queues on the session's moto server for the consumer's tests, and an Ingestor on them.

Temporal is replaced by a recording `send`; tests/aws holds the consumer's other tests."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from activities.inbound.config import IngestConfig
from activities.inbound.consumer import Ingestor
from activities.inbound.ses_events import Signal
from activities.stores.ledger import SqliteSendLedger

REGION = "us-east-1"
SECRET = "0123456789abcdef0123456789abcdef"


@dataclass
class Sent:
    signals: list[Signal] = field(default_factory=list)

    async def __call__(self, signal: Signal) -> None:
        self.signals.append(signal)


@dataclass
class Queues:
    endpoint: str
    sqs: Any
    urls: dict[str, str]
    ledger: SqliteSendLedger
    sent: Sent = field(default_factory=Sent)

    def put(self, kind: str, body: str | dict) -> None:
        self.sqs.send_message(QueueUrl=self.urls[kind], MessageBody=body if isinstance(body, str) else json.dumps(body))

    def dead_letters(self) -> list[dict[str, Any]]:
        """Every message of the dead-letter queue (taken off it), with its attributes."""
        found: list[dict[str, Any]] = []
        while batch := self.sqs.receive_message(
            QueueUrl=self.urls["dlq"], MaxNumberOfMessages=10, WaitTimeSeconds=0, MessageAttributeNames=["All"]
        ).get("Messages", []):
            found.extend(batch)
            for message in batch:
                self.sqs.delete_message(QueueUrl=self.urls["dlq"], ReceiptHandle=message["ReceiptHandle"])
        return found

    def reasons(self) -> list[str]:
        return [m["MessageAttributes"]["reason"]["StringValue"] for m in self.dead_letters()]

    def left(self, kind: str) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.urls[kind],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(value) for value in attributes.values())

    def ingestor(self, **overrides: Any) -> Ingestor:
        # The fixtures' envelopes are not signed; tests of signatures turn it on.
        options = {"verify_sns_signatures": False, **overrides}
        clients = {key: options.pop(key) for key in ("fetch_certificate", "s3", "clock") if key in options}
        config = IngestConfig(
            region=REGION,
            endpoint_url=self.endpoint,
            events_queue_url=self.urls["events"],
            replies_queue_url=self.urls["replies"],
            sms_queue_url=self.urls["sms"],
            dead_letter_queue_url=self.urls["dlq"],
            wait_seconds=0,
            click_settle_seconds=0,
            **options,
        )
        return Ingestor(config, sqs=self.sqs, send=self.sent, ledger=self.ledger, reply_secrets=[SECRET], **clients)


def fresh_queues(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Queues:
    """A clean moto account with the three queues and the dead-letter queue (a test
    module's `queues` fixture: fixtures imported from here would shadow their names)."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10).raise_for_status()
    sqs = boto3.client("sqs", region_name=REGION, endpoint_url=moto_endpoint)
    urls = {
        kind: sqs.create_queue(QueueName=f"touchpoint-{kind}", Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
        for kind in ("events", "replies", "sms", "dlq")
    }
    return Queues(endpoint=moto_endpoint, sqs=sqs, urls=urls, ledger=SqliteSendLedger(tmp_path / "ledger.sqlite3"))


async def drain(ingestor: Ingestor, kind: str) -> None:
    while await ingestor.poll(kind):
        pass
