"""A service in any language: the stock `temporal` CLI sends the documented JSON, no Python client.

With `--codec-endpoint`, as every example in the README: the CLI encrypts what it sends and
decrypts what it reads, through a codec endpoint serving the tests' keys."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.helpers import Finished, RunningWorker, eventually, outbox_files, run, stock_cli_env
from tests.support.codec_server import codec_server
from tests.support.privacy import shared_codec

pytestmark = pytest.mark.integration

# The enroll JSON from DESIGN.md, on a clock where one simulated day lasts 0.1 s.
SPEEDUP = 864_000
ENROLL = {
    "lead": {
        "id": "crm-0042",
        "email": "dana@acme.example",
        "first_name": "Dana",
        "last_name": "Reyes",
        "company": "Acme Freight",
        "timezone": "America/Chicago",
        "phone": "+13125550142",
        "owner": "rep-7",
        "segment": "logistics",
        "attributes": {"challenge": "manual dispatch"},
    },
    "mode": "follow_up",
    "context": {"trigger": "proposal_sent", "discovery_notes": "dispatch takes 3 people"},
    "follow_up_cadence": "follow-up",
    "nurture_cadence": "nurture",
    "speedup": SPEEDUP,
}
WORKFLOW_ID = "lead-crm-0042"


@pytest.fixture(scope="module", autouse=True)
def codec_endpoint():
    global CODEC_ENDPOINT
    with codec_server(shared_codec()) as CODEC_ENDPOINT:
        yield


CODEC_ENDPOINT = ""


async def temporal(worker: RunningWorker, *args: str) -> Finished:
    return await run(
        "temporal", *args, "--address", worker.address, "--codec-endpoint", CODEC_ENDPOINT, env=stock_cli_env()
    )


async def query_state(worker: RunningWorker) -> dict:
    finished = await temporal(worker, "workflow", "query", "--workflow-id", WORKFLOW_ID, "--type", "state", "-o", "json")
    assert finished.code == 0, finished.stderr
    return json.loads(finished.stdout)["queryResult"][0]


async def test_a_lead_started_queried_and_snoozed_with_the_stock_temporal_cli(worker: RunningWorker) -> None:
    started = await temporal(
        worker,
        "workflow", "start", "--type", "LeadWorkflow", "--task-queue", worker.task_queue,
        "--workflow-id", WORKFLOW_ID, "--input", json.dumps(ENROLL),
    )  # fmt: skip
    assert started.code == 0, started.stderr

    first_touch = await eventually(lambda: outbox_files(worker.outbox, "crm-0042"), what="the day-1 email")
    state = await eventually(
        lambda: _when(query_state(worker), lambda s: s["touches_total"] >= 1), what="a touch in the state"
    )
    before = datetime.now(UTC)
    snoozed = await temporal(
        worker,
        "workflow", "update", "execute", "--workflow-id", WORKFLOW_ID,
        "--name", "snooze", "--input", '{"months": 3}', "-o", "json",
    )  # fmt: skip

    assert "day-1-case-study" in first_touch[0].name
    assert state["lead_id"] == "crm-0042"
    assert snoozed.code == 0, snoozed.stderr
    returned = json.loads(snoozed.stdout)["result"]
    assert returned["mode"] == "snoozed"
    # Three months on the lead's clock, divided by the speed-up.
    snoozed_until = datetime.fromisoformat(returned["snoozed_until"])
    assert before < snoozed_until < before + timedelta(days=93) / SPEEDUP + timedelta(seconds=5)

    # When the snooze ends: the check-in email, then nurture.
    await eventually(
        lambda: [f for f in outbox_files(worker.outbox, "crm-0042") if "snooze-check-in" in f.name],
        what="the check-in email after the snooze",
    )
    after = await eventually(
        lambda: _when(query_state(worker), lambda s: s["mode"] == "nurture"), what="nurture after the check-in"
    )
    assert after["transitions"][-1]["reason"] == "snooze ended: check-in sent"
    # Queried on a later run (nurture continued as new): the touches come along, as a list.
    assert after["run"] > state["run"]
    assert [t["step"] for t in after["touches"]][:1] == ["day-1-case-study"]

    # A malformed command is refused with the model's own explanation.
    refused = await temporal(
        worker,
        "workflow", "update", "execute", "--workflow-id", WORKFLOW_ID,
        "--name", "snooze", "--input", '{"months": 3, "weeks": 2}',
    )  # fmt: skip
    assert refused.code != 0
    assert "snooze needs exactly one of months, weeks, days or until" in refused.stderr


async def _when(state_coro, condition) -> dict | None:
    state = await state_coro
    return state if condition(state) else None
