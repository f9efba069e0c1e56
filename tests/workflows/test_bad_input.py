"""Input from other services that must never stick, kill or silently lose a lead.

Each case as another service sends it through Temporal itself (by name, raw JSON):
no argument, two arguments, not an object, an unknown signal, oversized text, a start
input that cannot be a lead, the engine's own `memory` field.
"""

import asyncio
import uuid

import pytest
from temporalio.client import WorkflowFailureError, WorkflowQueryFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from tests.workflows.fakes import enroll
from tests.workflows.helpers import start, state
from workflows import names
from workflows.models import Mode

PHONE = "+13125550142"


@pytest.mark.parametrize(
    ("signal", "args", "error"),
    [
        ("trigger", [], "takes one JSON object, the event; got 0 arguments"),
        ("reply", [{"event_id": "a", "text": "hi"}, {"event_id": "b"}], "got 2 arguments"),
        ("engagement", ["open"], "takes a JSON object, the event; got a string"),
        ("delivery", [[1, 2]], "got an array"),
        ("reply", [None], "got null"),
    ],
)
async def test_a_signal_with_the_wrong_arguments_is_kept_as_rejected_and_the_lead_goes_on(
    env, client, worker, recorder, signal, args, error
):
    handle = await start(client, worker, mode="nurture")
    await handle.signal(signal, args=args)
    # The lead still answers, and still takes the next (valid) event.
    await handle.signal(names.SIGNAL_TRIGGER, {"event_id": "t-1", "name": "funding_round"})
    s = await state(handle)
    [rejected] = s.rejected_events
    assert rejected.signal == signal and error in rejected.error
    assert s.mode == Mode.FOLLOW_UP
    assert s.transitions[-1].reason == "trigger: funding_round"


async def test_an_unknown_signal_is_kept_as_rejected_without_its_payload(env, client, worker, recorder):
    handle = await start(client, worker, mode="nurture")
    await handle.signal("replied", {"event_id": "r-1", "text": f"call me on {PHONE}"})
    s = await state(handle)
    [rejected] = s.rejected_events
    assert rejected.signal == "replied"
    assert "unknown signal; LeadWorkflow's signals are reply, engagement, delivery, trigger" == rejected.error
    assert PHONE not in s.model_dump_json()
    assert s.mode == Mode.NURTURE


async def test_an_invalid_event_is_rejected_naming_the_field_not_the_value(env, client, worker, recorder):
    handle = await start(client, worker, mode="nurture")
    await handle.signal(names.SIGNAL_ENGAGEMENT, {"event_id": "e-1", "kind": PHONE})
    [rejected] = (await state(handle)).rejected_events
    assert rejected.error.startswith("kind: Input should be 'open'")
    assert PHONE not in rejected.error


async def test_oversized_replies_cannot_blow_up_the_history(env, client, worker, recorder):
    """Each rejected reply stays in the history; the run continues as new before it grows
    anywhere near the server's limit, and the lead lives on."""
    handle = await start(client, worker, mode="nurture")
    big = "x" * 1_200_000
    for n in range(5):
        await handle.signal(names.SIGNAL_REPLY, {"event_id": f"big-{n}", "text": big})
    s = None
    for _ in range(300):  # the new run starts in a workflow task after the signals; slow when busy
        try:
            s = await state(handle)
        except (RPCError, WorkflowQueryFailedError):
            # A busy worker can miss a query's deadline while it reads 6 MB of history.
            continue
        if s.run >= 2 and len(s.rejected_events) == 5:
            break
        await asyncio.sleep(0.1)
    assert s is not None
    assert s.run >= 2
    assert s.mode == Mode.NURTURE
    assert len(s.rejected_events) == 5
    assert all("text: String should have at most 100000 characters" == r.error for r in s.rejected_events)
    assert big not in s.model_dump_json()


async def _failure(client, worker, payload) -> ApplicationError:
    handle = await client.start_workflow(
        names.WORKFLOW_TYPE, payload, id=f"lead-bad-{uuid.uuid4().hex[:8]}", task_queue=worker.task_queue
    )
    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == names.INVALID_ENROLLMENT and cause.non_retryable
    return cause


@pytest.mark.parametrize(
    ("payload", "names_"),
    [
        ({"lead": {"id": "crm-1"}, "mode": "nurture"}, ["lead.email: Field required"]),
        ({"lead": {"id": "crm 1", "email": "a@b.example"}, "mode": "nurture"}, ["lead.id:"]),
        ({"lead": {"id": "x" * 65, "email": "a@b.example"}, "mode": "nurture"}, ["lead.id:"]),
        ({"lead": {"id": "crm-1", "email": "a@b.example", "timezone": "Mars/Base"}, "mode": "nurture"},
         ["lead.timezone: unknown time zone"]),
        ({"lead": {"id": "crm-1", "email": "a@b.example", "phone": "+1 312 555"}, "mode": "nurture"},
         ["lead.phone:"]),
        ({"lead": {"id": "crm-1", "email": "a@b.example"}, "mode": "nurture", "speedup": 0}, ["speedup:"]),
        ({"lead": {"id": "crm-1", "email": "a@b.example"}, "mode": "nurture", "speedup": 1e300}, ["speedup:"]),
        ({"lead": {"id": "crm-1", "email": "a@b.example"}, "mode": "later"}, ["mode:"]),
        ("crm-1", ["must be a JSON object (EnrollLead); got a string"]),
    ],
)
async def test_a_start_input_that_cannot_be_a_lead_fails_at_once_naming_the_field(
    env, client, worker, recorder, payload, names_
):
    cause = await _failure(client, worker, payload)
    for expected in names_:
        assert expected in cause.message
    assert "+1 312 555" not in cause.message and "Mars/Base" not in cause.message
    assert recorder.touches == []


async def test_callers_cannot_hand_in_the_engines_memory(env, client, worker, recorder):
    payload = enroll("nurture", lead_id="crm-mem").model_dump(mode="json") | {
        "memory": {"state": {"lead_id": "crm-mem", "mode": "closed"}}
    }
    cause = await _failure(client, worker, payload)
    assert "memory is set by the engine" in cause.message
