"""Rep tasks land on an SQS FIFO queue once per task id, as JSON a consumer can read."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from activities.common.aws import aws_client as make_aws_client
from activities.content.config import ContentConfig
from activities.content.templates import TemplateRenderer
from activities.delivery.config import SqsTaskQueueConfig
from activities.delivery.rep_tasks import OutgoingTask, RepTaskActivities
from activities.delivery.sqs_tasks import SqsTaskSink, deduplication_id
from workflows.models import RepTaskInput

REGION = "us-east-1"  # the region of the aws fixture


@pytest.fixture
def sqs(aws: str) -> Any:
    return make_aws_client("sqs", region=REGION, endpoint_url=aws)


@pytest.fixture
def fifo_url(sqs: Any) -> str:
    return sqs.create_queue(QueueName="rep-tasks.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]


def tasks(sqs: Any, queue_url: str) -> RepTaskActivities:
    return RepTaskActivities(TemplateRenderer(), SqsTaskSink(sqs, queue_url), ContentConfig())


def received(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Every message on the queue, read until it is empty."""
    messages = []
    while batch := sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=0
    ).get("Messages"):
        messages.extend(batch)
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)],
        )
    return messages


REPLY_TASK = RepTaskInput(
    task_id="crm-0042:task-1",
    kind="reply",
    lead_id="crm-0042",
    owner="rep-7",
    title="Answer a reply from crm-0042",
    note="The lead asked about pricing.",
)


def test_a_retried_activity_creates_the_task_once(sqs: Any, fifo_url: str) -> None:
    activity = tasks(sqs, fifo_url)

    first = activity.create_rep_task(REPLY_TASK)
    retried = activity.create_rep_task(REPLY_TASK)

    assert first == retried and first.status == "task_created"
    [message] = received(sqs, fifo_url)
    assert message["Attributes"]["MessageDeduplicationId"] == "crm-0042:task-1"
    assert message["Attributes"]["MessageGroupId"] == "crm-0042"


def test_the_message_body_is_the_task_as_json(sqs: Any, fifo_url: str) -> None:
    tasks(sqs, fifo_url).create_rep_task(REPLY_TASK)

    [message] = received(sqs, fifo_url)
    body = json.loads(message["Body"])
    assert set(body) == {"task_id", "kind", "lead_id", "owner", "title", "body", "created_at"}
    assert (body["task_id"], body["kind"], body["lead_id"], body["owner"]) == (
        "crm-0042:task-1",
        "reply",
        "crm-0042",
        "rep-7",
    )
    assert body["title"] == "Answer a reply from crm-0042"
    assert body["body"] == "The lead asked about pricing."
    assert datetime.fromisoformat(body["created_at"]).tzinfo is not None


def test_a_due_date_travels_with_the_task(sqs: Any, fifo_url: str) -> None:
    due = datetime(2027, 3, 1, 15, 0, tzinfo=UTC)
    SqsTaskSink(sqs, fifo_url).create(
        OutgoingTask(
            task_id="crm-0042:task-2",
            kind="call",
            lead_id="crm-0042",
            owner=None,
            title="Call back",
            body="",
            created_at=datetime(2027, 2, 1, tzinfo=UTC),
            due_at=due,
        )
    )

    [message] = received(sqs, fifo_url)
    assert datetime.fromisoformat(json.loads(message["Body"])["due_at"]) == due


def test_a_sink_built_from_config_alone_reaches_its_queue(sqs: Any, fifo_url: str, aws: str) -> None:
    sink = SqsTaskSink.from_config(SqsTaskQueueConfig(queue_url=fifo_url, region=REGION, endpoint_url=aws))

    RepTaskActivities(TemplateRenderer(), sink, ContentConfig()).create_rep_task(REPLY_TASK)

    assert sink.fifo
    assert [json.loads(m["Body"])["task_id"] for m in received(sqs, fifo_url)] == ["crm-0042:task-1"]


def test_a_standard_queue_gets_the_task_without_fifo_fields(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="rep-tasks")["QueueUrl"]
    sink = SqsTaskSink(sqs, url)

    tasks(sqs, url).create_rep_task(REPLY_TASK)

    assert not sink.fifo
    [message] = received(sqs, url)
    assert json.loads(message["Body"])["task_id"] == "crm-0042:task-1"


def test_a_task_id_longer_than_sqs_allows_dedupes_by_its_hash(sqs: Any, fifo_url: str) -> None:
    long_id = f"{'l' * 64}:00001:{'s' * 63}"
    task = REPLY_TASK.model_copy(update={"task_id": long_id, "lead_id": "l" * 64})
    activity = tasks(sqs, fifo_url)

    activity.create_rep_task(task)
    activity.create_rep_task(task)

    [message] = received(sqs, fifo_url)
    assert message["Attributes"]["MessageDeduplicationId"] == deduplication_id(long_id)
    assert len(deduplication_id(long_id)) <= 128
    assert json.loads(message["Body"])["task_id"] == long_id
