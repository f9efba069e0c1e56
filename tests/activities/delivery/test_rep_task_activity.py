"""Rep tasks land once in the task file, with instructions rendered from the step."""

import json
from collections.abc import Callable

import pytest

from activities.content.config import ContentConfig
from activities.content.templates import TemplateRenderer
from activities.delivery.config import DeliveryConfig
from activities.delivery.rep_tasks import JsonlTaskSink, RepTaskActivities
from workflows.models import EnrollLead, RepTaskInput, TouchInput


@pytest.fixture
def tasks(renderer: TemplateRenderer, content: ContentConfig, config: DeliveryConfig) -> RepTaskActivities:
    return RepTaskActivities(renderer, JsonlTaskSink(config.tasks_file), content)


def on_file(config: DeliveryConfig) -> list[dict]:
    return [json.loads(line) for line in config.tasks_file.read_text().splitlines()]


def test_call_step_becomes_a_task_with_rendered_instructions(
    tasks: RepTaskActivities,
    config: DeliveryConfig,
    example: EnrollLead,
    make_touch: Callable[..., TouchInput],
) -> None:
    touch = make_touch(example.lead, "dunning", "day-10-call", context={"amount": "$1,200.00"})

    result = tasks.create_rep_task(
        RepTaskInput(
            task_id="crm-0042-day-10-call",
            kind="call",
            lead_id="crm-0042",
            owner="rep-7",
            title="",
            touch=touch,
        )
    )

    assert result.status == "task_created" and result.send_key == touch.send_key
    [task] = on_file(config)
    assert set(task) == {"task_id", "kind", "lead_id", "owner", "title", "body", "created_at"}
    assert task["title"] == "Call Dana Reyes about a failed payment"
    assert "$1,200.00" in task["body"] and "Phone: +13125550142" in task["body"]
    assert (task["kind"], task["owner"]) == ("call", "rep-7")


def test_creating_the_same_task_twice_keeps_one(
    tasks: RepTaskActivities,
    config: DeliveryConfig,
    example: EnrollLead,
    make_touch: Callable[..., TouchInput],
) -> None:
    task = RepTaskInput(
        task_id="crm-0042-linkedin",
        kind="linkedin",
        lead_id="crm-0042",
        title="",
        touch=make_touch(example.lead, "re-engage", "day-9-linkedin"),
    )

    tasks.create_rep_task(task)
    tasks.create_rep_task(task)

    assert [t["task_id"] for t in on_file(config)] == ["crm-0042-linkedin"]


def test_task_without_a_step_uses_the_given_title_and_note(
    tasks: RepTaskActivities, config: DeliveryConfig
) -> None:
    tasks.create_rep_task(
        RepTaskInput(
            task_id="crm-0042-reply-1",
            kind="reply",
            lead_id="crm-0042",
            title="Answer a reply from crm-0042",
            note="The lead asked about pricing.",
        )
    )

    [task] = on_file(config)
    assert task["title"] == "Answer a reply from crm-0042"
    assert task["body"] == "The lead asked about pricing."
