"""A reply stored in S3 is read only from the inbound bucket(s) in `inbound_buckets`: a
notification naming any other bucket is dead-lettered and no object of it becomes a reply."""

from __future__ import annotations

import boto3
import pytest

from activities.common.tokens import make_reply_address
from activities.inbound.config import IngestConfig
from tests.activities.inbound.ingest_queues import REGION, SECRET, Queues, drain, fresh_queues
from tests.support.inbound_messages import sns_envelope


@pytest.fixture
def queues(moto_endpoint, monkeypatch, tmp_path) -> Queues:
    return fresh_queues(moto_endpoint, monkeypatch, tmp_path)


@pytest.fixture
def s3(queues: Queues):
    client = boto3.client("s3", region_name=REGION, endpoint_url=queues.endpoint)
    mail = (
        "From: Dana Reyes <dana@acme.example>\r\n"
        f"To: {make_reply_address('crm-0042', SECRET, 'reply.harborview.example')}\r\n"
        "Subject: Re: dispatch\r\nMessage-ID: <CAFx1@mail.gmail.com>\r\n"
        "Content-Type: text/plain; charset=UTF-8\r\n\r\nYes, let's set up a call next week.\r\n"
    ).encode()
    for bucket in ("touchpoint-inbound", "someone-elses-bucket"):
        client.create_bucket(Bucket=bucket)
        client.put_object(Bucket=bucket, Key="mail/abc", Body=mail)
    return client


def stored_in(bucket: str) -> str:
    """An SES receipt notification for mail its S3 action stored in `bucket`."""
    return sns_envelope({
        "notificationType": "Received",
        "receipt": {"recipients": ["replies@reply.harborview.example"],
                    "action": {"type": "S3", "bucketName": bucket, "objectKey": "mail/abc"}},
        "mail": {"timestamp": "2026-11-23T10:00:00.000Z", "messageId": f"inbound-{bucket}"},
    })


async def test_only_the_allowed_bucket_is_read(queues, s3):
    ingestor = queues.ingestor(s3=s3, inbound_buckets=["touchpoint-inbound"])
    queues.put("replies", stored_in("touchpoint-inbound"))
    queues.put("replies", stored_in("someone-elses-bucket"))
    await drain(ingestor, "replies")

    assert [s.payload["event_id"] for s in queues.sent.signals] == ["reply:inbound-touchpoint-inbound"]
    (reason,) = queues.reasons()
    assert reason.startswith("refused replies message: ")
    assert "'someone-elses-bucket', which is not in inbound_buckets (touchpoint-inbound)" in reason
    assert queues.left("replies") == 0


async def test_an_s3_action_with_no_bucket_allowed_says_what_to_set(queues, s3):
    ingestor = queues.ingestor(s3=s3)
    queues.put("replies", stored_in("touchpoint-inbound"))
    await drain(ingestor, "replies")
    assert queues.sent.signals == []
    (reason,) = queues.reasons()
    assert "no bucket is allowed: set inbound_buckets in TOUCHPOINT_INGEST" in reason


def test_bucket_names_are_checked_when_the_settings_are_read():
    with pytest.raises(ValueError, match="inbound_buckets"):
        IngestConfig(region=REGION, replies_queue_url="https://sqs.example/r",
                     dead_letter_queue_url="https://sqs.example/d", inbound_buckets=["Not A Bucket/"])
