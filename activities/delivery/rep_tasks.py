"""Rep tasks: a call or LinkedIn step, or a reply that needs a person, handed to the lead's rep.

Locally tasks are appended to a JSON-lines file; `activities.delivery.sqs_tasks` publishes them
to an SQS queue behind the same `TaskSink` interface, and a CRM can follow the same way.
"""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel
from temporalio import activity

from activities.common.jsonl import JsonLines
from activities.common.logs import activity_log
from activities.content.config import ContentConfig
from activities.content.templates import TemplateRenderer
from activities.content.touch import render_touch
from activities.delivery.fast_clock import fast_clock_task_refusal, refuse_fast_clock
from workflows import names
from workflows.models import RepTaskInput, TaskKind, TouchResult


class OutgoingTask(BaseModel):
    task_id: str
    kind: TaskKind
    lead_id: str
    owner: str | None
    title: str
    body: str
    created_at: datetime
    due_at: datetime | None = None

    def record(self) -> dict[str, Any]:
        """The task as JSON-ready fields; due_at only when the task has one."""
        return self.model_dump(mode="json", exclude={"due_at"} if self.due_at is None else None)


class TaskSink(Protocol):
    @property
    def service(self) -> str | None:
        """The real service tasks go to, e.g. "SQS"; None for local files and emulators."""
        ...

    def create(self, task: OutgoingTask) -> None:
        """Create the task; creating a task_id that already exists changes nothing."""
        ...


class JsonlTaskSink:
    """One JSON object per line: task_id, kind, lead_id, owner, title, body, created_at[, due_at]."""

    service = None

    def __init__(self, path: Path) -> None:
        self._tasks = JsonLines(path, key="task_id")

    def create(self, task: OutgoingTask) -> None:
        self._tasks.append_once(task.record())


class RepTaskActivities:
    def __init__(self, renderer: TemplateRenderer, sink: TaskSink, content: ContentConfig) -> None:
        self._renderer = renderer
        self._sink = sink
        self._content = content

    @activity.defn(name=names.CREATE_REP_TASK)
    def create_rep_task(self, input: RepTaskInput) -> TouchResult:
        touch = input.touch
        if touch is not None:
            refuse_fast_clock(touch, self._sink.service)
            rendered = render_touch(self._renderer, self._content, touch, touch.step.channel)
            title, body = rendered.subject, rendered.text
        else:
            refused = fast_clock_task_refusal(input, self._sink.service)
            if refused is not None:
                return TouchResult(send_key=input.task_id, status="skipped", detail=refused)
            title, body = input.title, input.note
        self._sink.create(
            OutgoingTask(
                task_id=input.task_id,
                kind=input.kind,
                lead_id=input.lead_id,
                owner=input.owner,
                title=title,
                body=body,
                created_at=datetime.now(UTC),
            )
        )
        activity_log(
            lead_id=input.lead_id,
            task_id=input.task_id,
            kind=input.kind,
            step=touch.step.key if touch else None,
        ).info("rep task created")
        return TouchResult(
            send_key=touch.send_key if touch else input.task_id,
            status="task_created",
            message_id=input.task_id,
        )
