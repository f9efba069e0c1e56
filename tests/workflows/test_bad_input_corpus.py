"""The committed corpus of bad input (tests/fixtures/bad_inputs/), sent as another
service in any language sends it: by name, as raw JSON, through Temporal itself.

Each start input must fail its run at once with a clear, non-retryable error naming the
field and none of the values; each bad signal must be kept as rejected while the lead
goes on answering, and a valid event after it must still take effect. None may leave
the lead in a workflow-task retry loop (stuck) or drop the next event (lost).
"""

import json
import uuid
from pathlib import Path

import pytest
from temporalio.client import WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import ApplicationError

from tests.edges.verdicts import strings_in
from tests.workflows.helpers import start, state
from workflows import names
from workflows.models import Mode

CORPUS = Path(__file__).parents[1] / "fixtures" / "bad_inputs"
STARTS = json.loads((CORPUS / "start.json").read_text(encoding="utf-8"))
SIGNALS = json.loads((CORPUS / "signals.json").read_text(encoding="utf-8"))


async def workflow_task_failures(handle: WorkflowHandle) -> int:
    history = await handle.fetch_history()
    return sum(1 for event in history.events if event.HasField("workflow_task_failed_event_attributes"))


@pytest.mark.parametrize("case", STARTS, ids=[c["case"] for c in STARTS])
async def test_a_bad_start_input_fails_at_once_naming_the_field(env, client, worker, case):
    handle = await client.start_workflow(
        names.WORKFLOW_TYPE, case["input"], id=f"lead-bad-{uuid.uuid4().hex[:8]}", task_queue=worker.task_queue
    )
    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    assert (cause.type, cause.non_retryable) == (names.INVALID_ENROLLMENT, True)
    assert case["names"] in cause.message
    leaked = [value for value in strings_in(case["input"]) if value in cause.message and value != "nurture"]
    assert leaked == [], "the error echoes what the caller sent"
    assert await workflow_task_failures(handle) == 0


@pytest.mark.parametrize("case", SIGNALS, ids=[c["case"] for c in SIGNALS])
async def test_a_bad_signal_is_kept_as_rejected_and_the_next_event_still_counts(env, client, worker, case):
    handle = await start(client, worker, mode="nurture")
    await handle.signal(case["signal"], args=case["args"])
    await handle.signal(names.SIGNAL_TRIGGER, {"event_id": "after", "name": "funding_round"})

    s = await state(handle)
    [rejected] = s.rejected_events
    assert rejected.signal == case["signal"] and case["error"] in rejected.error
    assert s.mode == Mode.FOLLOW_UP and s.transitions[-1].reason == "trigger: funding_round"
    assert "+13125550142" not in s.model_dump_json()
    assert await workflow_task_failures(handle) == 0
