"""TouchpointClient against a real server: what another Python service relies on."""

from __future__ import annotations

import uuid

import pytest
from google.protobuf.duration_pb2 import Duration
from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest
from temporalio.client import WorkflowFailureError

from activities.content.cadences import CadenceStore
from starter.client import EnrollFailure, EnrollResult, TouchpointClient
from starter.errors import CommandRejected, InvalidInput, LeadClosed, LeadNotFound, UnknownCadence
from starter.search_attributes import register_search_attributes
from tests.integration.helpers import RunningWorker, completed, eventually
from workflows import search_attributes as sa
from workflows.models import EnrollLead, Mode


def lead(lead_id: str, **changes: object) -> EnrollLead:
    # speedup 1: nothing is sent during the test, so the state only changes by our commands.
    data = {
        "lead": {
            "id": lead_id,
            "email": f"{lead_id}@acme.example",
            "first_name": "Dana",
            "owner": "rep-7",
            "segment": "logistics",
        },
        "mode": "follow_up",
    }
    return EnrollLead.model_validate(data | changes)


pytestmark = pytest.mark.integration


@pytest.fixture
def touchpoint(worker: RunningWorker) -> TouchpointClient:
    # The module's worker serves the packaged cadences.
    return TouchpointClient(worker.client, task_queue=worker.task_queue, known_cadences=CadenceStore().ids)


async def test_enrolling_the_same_lead_twice_keeps_one_workflow(touchpoint: TouchpointClient) -> None:
    first = await touchpoint.enroll(lead("py-1"))
    run_id = (await touchpoint.temporal.get_workflow_handle("lead-py-1").describe()).run_id
    second = await touchpoint.enroll(lead("py-1", mode="nurture"))

    assert first == EnrollResult(lead_id="py-1", workflow_id="lead-py-1", created=True)
    assert second == EnrollResult(lead_id="py-1", workflow_id="lead-py-1", created=False)
    description = await touchpoint.temporal.get_workflow_handle("lead-py-1").describe()
    assert description.run_id == run_id
    assert (await touchpoint.state("py-1")).mode == Mode.FOLLOW_UP


async def test_ops_see_a_summary_and_search_attributes_without_personal_data(touchpoint: TouchpointClient) -> None:
    await touchpoint.enroll(lead("py-2"))

    description = await touchpoint.temporal.get_workflow_handle("lead-py-2").describe()

    assert await description.static_summary() == "follow-up · cadence follow-up · owner rep-7 · segment logistics"
    found = description.typed_search_attributes
    assert found.get(sa.LEAD_OWNER) == "rep-7"
    assert found.get(sa.LEAD_SEGMENT) == "logistics"
    assert found.get(sa.LEAD_MODE) == "follow_up"
    visible = f"{await description.static_summary()} {[pair.value for pair in found]}"
    assert "acme.example" not in visible and "Dana" not in visible


async def test_a_closed_lead_stays_closed_when_enrolled_again(touchpoint: TouchpointClient) -> None:
    await touchpoint.enroll(lead("py-3"))
    closed = await touchpoint.close("py-3", {"outcome": "unsubscribed"})
    await eventually(lambda: completed(touchpoint.temporal, "lead-py-3"), what="py-3's run to end")

    again = await touchpoint.enroll(lead("py-3"))
    with pytest.raises(LeadClosed) as refused:
        await touchpoint.snooze("py-3", {"months": 3})

    assert closed.mode == Mode.CLOSED
    assert again.created is False
    assert again.closed_outcome == "unsubscribed"
    assert await completed(touchpoint.temporal, "lead-py-3"), "not restarted"
    assert str(refused.value) == (
        "lead py-3 is closed (outcome unsubscribed): it takes no more commands or events, "
        "and enrolling it again is refused"
    )


async def test_an_unknown_cadence_is_refused_before_anything_starts(touchpoint: TouchpointClient) -> None:
    with pytest.raises(UnknownCadence) as refused:
        await touchpoint.enroll(lead("py-4", follow_up_cadence="post-demo"))

    assert str(refused.value) == (
        "unknown cadence 'post-demo': known cadences are dunning, follow-up, nurture, re-engage"
    )
    with pytest.raises(LeadNotFound):
        await touchpoint.state("py-4")


async def test_enroll_many_reports_a_bad_lead_and_enrolls_the_rest(touchpoint: TouchpointClient) -> None:
    seen: list[EnrollResult | EnrollFailure] = []

    results = await touchpoint.enroll_many(
        [lead("py-5"), lead("py-6", nurture_cadence="webinar-series"), lead("py-7")],
        concurrency=2,
        on_result=seen.append,
    )

    assert [type(result) for result in results] == [EnrollResult, EnrollFailure, EnrollResult]
    assert all(result.created for result in results if isinstance(result, EnrollResult))
    failure = results[1]
    assert isinstance(failure, EnrollFailure) and failure.lead_id == "py-6"
    assert "unknown cadence 'webinar-series'" in str(failure.error)
    assert len(seen) == 3


async def test_commands_name_the_problem(touchpoint: TouchpointClient) -> None:
    await touchpoint.enroll(lead("py-8"))
    paused = await touchpoint.pause("py-8", {"reason": "rep on holiday"})

    with pytest.raises(CommandRejected) as again:
        await touchpoint.pause("py-8", {"reason": "still on holiday"})
    with pytest.raises(LeadNotFound) as missing:
        await touchpoint.reply("nobody", {"event_id": "e-1", "text": "hello"})
    with pytest.raises(InvalidInput) as invalid:
        await touchpoint.reply("py-8", {"text": "no event id"})
    resumed = await touchpoint.resume("py-8")

    assert paused.mode == Mode.PAUSED and paused.pause_reason == "rep on holiday"
    assert str(again.value) == "rejected: the lead is already paused; resume it first or change nothing"
    assert str(missing.value) == "no lead nobody is enrolled"
    assert str(invalid.value) == "invalid ReplyEvent: event_id: Field required"
    assert resumed.mode == Mode.FOLLOW_UP


async def test_setup_registers_the_search_attributes_once_per_namespace(touchpoint: TouchpointClient) -> None:
    namespace = f"setup-{uuid.uuid4().hex[:8]}"
    await touchpoint.temporal.workflow_service.register_namespace(
        RegisterNamespaceRequest(namespace=namespace, workflow_execution_retention_period=Duration(seconds=86_400))
    )

    added = await register_search_attributes(touchpoint.temporal, namespace=namespace)
    again = await register_search_attributes(touchpoint.temporal, namespace=namespace)

    assert added == sorted(key.name for key in sa.ALL)
    assert again == []


async def test_a_start_input_that_failed_can_be_enrolled_again_once_fixed(touchpoint: TouchpointClient) -> None:
    """Another service sent JSON that cannot be a lead: the run fails at once, naming the
    field, and the fixed lead enrolls (a closed lead would not)."""
    handle = await touchpoint.temporal.start_workflow(
        "LeadWorkflow", {"lead": {"id": "py-bad"}, "mode": "follow_up"}, id="lead-py-bad",
        task_queue=touchpoint.task_queue,
    )
    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()
    assert "lead.email: Field required" in str(failed.value.cause)

    again = await touchpoint.enroll(lead("py-bad"))

    assert again.created is True
    assert (await touchpoint.state("py-bad")).mode == Mode.FOLLOW_UP
