"""plan_send: the send time the workflow records in history, or a clear non-retryable error."""

from datetime import UTC, date, datetime

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.windows.planner import INVALID_SEND_WINDOW, SendWindowActivities
from workflows.models import Channel, EnrollLead
from workflows.send_window_models import PlannedSend, PlanSendInput, SendWindowPolicy, region_from_attributes

SATURDAY_0310_CHICAGO = datetime(2026, 6, 13, 8, 10, tzinfo=UTC)


@pytest.fixture
def planner() -> SendWindowActivities:
    return SendWindowActivities(SendWindowPolicy())


def touch(example: EnrollLead, **changes: object) -> PlanSendInput:
    """The DESIGN.md lead's day-3 email, as the workflow would ask for it."""
    fields: dict[str, object] = {
        "lead_id": example.lead.id,
        "send_key": f"{example.lead.id}:follow-up@v1:day-3",
        "channel": Channel.EMAIL,
        "due_at": SATURDAY_0310_CHICAGO,
        "lead_timezone": example.lead.timezone,
        "region": region_from_attributes(example.lead.attributes),
    }
    return PlanSendInput.model_validate(fields | changes)


def run(planner: SendWindowActivities, input: PlanSendInput) -> PlannedSend:
    return ActivityEnvironment().run(planner.plan_send, input)


def test_weekend_email_is_planned_for_monday_morning_in_the_leads_zone(
    planner: SendWindowActivities, example: EnrollLead
) -> None:
    planned = run(planner, touch(example))

    assert planned.zone == "America/Chicago"
    assert planned.send_at == datetime(2026, 6, 15, 15, 15, 49, tzinfo=UTC)
    assert planned.local_time == "2026-06-15T10:15:49-05:00"
    assert planned.label == "Mon 10:15 America/Chicago"
    assert planned.reason == "moved from Sat 03:10 to Mon 10:15 America/Chicago (weekend)"


def test_result_survives_the_json_round_trip_into_history(
    planner: SendWindowActivities, example: EnrollLead
) -> None:
    planned = run(planner, touch(example))

    assert PlannedSend.model_validate_json(planned.model_dump_json()) == planned


def test_worker_policy_applies_unless_the_workflow_sends_one(example: EnrollLead) -> None:
    # The company is closed on Monday 2026-06-15 and sends without jitter.
    worker_policy = SendWindowPolicy(company_holidays=(date(2026, 6, 15),), jitter_minutes=0)
    planner = SendWindowActivities(worker_policy)

    by_worker = run(planner, touch(example))
    by_workflow = run(planner, touch(example, policy=SendWindowPolicy(jitter_minutes=0)))

    assert by_worker.local_time == "2026-06-16T09:00:00-05:00"
    assert by_workflow.local_time == "2026-06-15T09:00:00-05:00"


def test_unknown_zone_fails_for_good_with_what_to_fix(
    planner: SendWindowActivities, example: EnrollLead
) -> None:
    with pytest.raises(ApplicationError) as raised:
        run(planner, touch(example, lead_timezone="Mars/Olympus_Mons"))

    assert raised.value.non_retryable
    assert raised.value.type == INVALID_SEND_WINDOW
    assert raised.value.message == (
        "lead crm-0042: unknown time zone 'Mars/Olympus_Mons' (the lead's time zone): "
        "use an IANA name such as 'America/Chicago' or 'Europe/Berlin'"
    )


def test_unknown_region_fails_for_good_naming_the_known_ones(
    planner: SendWindowActivities, example: EnrollLead
) -> None:
    with pytest.raises(ApplicationError, match=r"region 'US-ZZ' .* use one of .*US-FL") as raised:
        run(planner, touch(example, channel=Channel.SMS, region="US-ZZ"))

    assert raised.value.non_retryable and raised.value.type == INVALID_SEND_WINDOW
