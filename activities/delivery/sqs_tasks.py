"""Rep tasks to Amazon SQS: `SqsTaskSink` publishes each task as one JSON message.

The message body is the task: task_id, kind, lead_id, owner, title, body, created_at
(ISO 8601, UTC) and due_at when the task has one. A CRM bridge or the reps' tool
consumes the queue.

Use a FIFO queue (its name ends in `.fifo`): the sink sets
`MessageDeduplicationId=task_id` (its SHA-256 when longer than SQS allows), so an
activity retried after a send whose answer was lost, or run twice after a worker crash,
creates the task once within SQS's 5-minute deduplication window;
`MessageGroupId=lead_id` keeps one lead's tasks in order. A standard queue has no
deduplication: its consumers must dedupe by task_id (the same task_id always means the
same task). Past the 5 minutes SQS dedupes nothing, so consumers of either kind of queue
should treat a task_id they already hold as done.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from activities.common.aws import aws_client
from activities.common.logs import activity_log
from activities.delivery.config import SqsTaskQueueConfig
from activities.delivery.rep_tasks import OutgoingTask

MAX_DEDUPLICATION_ID = 128


class SqsTaskSink:
    """A TaskSink over one queue. `client`: `activities.common.aws.aws_client("sqs", region=…)`,
    one attempt per call, so Temporal's retry policy is the only one; an SQS error is
    raised as it is and the activity is retried."""

    def __init__(self, client: Any, queue_url: str, *, emulated: bool = False) -> None:
        """`emulated`: the client reaches an emulator (moto), not AWS."""
        self._sqs = client
        self._queue_url = queue_url
        self._fifo = queue_url.rstrip("/").endswith(".fifo")
        self._emulated = emulated

    @classmethod
    def from_config(cls, config: SqsTaskQueueConfig) -> SqsTaskSink:
        """With its own client for `config.region` (and `config.endpoint_url` in tests)."""
        client = aws_client("sqs", region=config.region, endpoint_url=config.endpoint_url)
        return cls(client, config.queue_url, emulated=config.endpoint_url is not None)

    @property
    def service(self) -> str | None:
        return None if self._emulated else "SQS"

    @property
    def fifo(self) -> bool:
        return self._fifo

    def create(self, task: OutgoingTask) -> None:
        request: dict[str, Any] = {
            "QueueUrl": self._queue_url,
            "MessageBody": json.dumps(task.record(), ensure_ascii=False),
        }
        if self._fifo:
            request["MessageDeduplicationId"] = deduplication_id(task.task_id)
            request["MessageGroupId"] = task.lead_id
        response = self._sqs.send_message(**request)
        activity_log(lead_id=task.lead_id, task_id=task.task_id).debug(
            "rep task queued", message_id=response["MessageId"], fifo=self._fifo
        )


def deduplication_id(task_id: str) -> str:
    """The task id, or its SHA-256 when longer than SQS's 128 characters (a 64-character
    lead id plus a long step key can exceed it); either way the same for the same task."""
    if len(task_id) <= MAX_DEDUPLICATION_ID:
        return task_id
    return hashlib.sha256(task_id.encode()).hexdigest()
