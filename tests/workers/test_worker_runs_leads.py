"""A worker built by build_worker, connected by connect(), carries a lead through its follow-up."""

import asyncio
import uuid
from pathlib import Path

from temporalio.client import Client

from starter.connection import connect
from tests.support.privacy import shared_codec
from workers.settings import Settings
from workers.worker import build_worker
from workflows import names
from workflows.models import EnrollLead, LeadState, Mode

# One cadence day every half second.
FAST = 86_400 * 2


async def wait_for(condition, *, timeout: float = 30) -> None:
    async with asyncio.timeout(timeout):
        while not await condition():
            await asyncio.sleep(0.2)


async def test_follow_up_emails_land_in_the_outbox_and_the_lead_moves_to_nurture(
    server_address: str, tmp_path: Path
) -> None:
    settings = Settings(temporal_address=server_address, task_queue=f"worker-{uuid.uuid4()}", var_dir=tmp_path)
    client: Client = await connect(settings.connection, codec=shared_codec())
    lead_id = f"worker-test-{uuid.uuid4().hex[:8]}"
    enroll = EnrollLead.model_validate(
        {
            "lead": {"id": lead_id, "email": "dana@acme.example", "first_name": "Dana"},
            "mode": "follow_up",
            "speedup": FAST,
        }
    )

    async with build_worker(client, settings):
        handle = await client.start_workflow(
            names.WORKFLOW_TYPE, enroll, id=names.workflow_id(lead_id), task_queue=settings.connection.task_queue
        )

        async def in_nurture() -> bool:
            state = await handle.query("state", result_type=LeadState)
            return state.mode == Mode.NURTURE

        await wait_for(in_nurture)
        state = await handle.query("state", result_type=LeadState)
        await handle.terminate("test done")

    emails = sorted(settings.delivery.outbox_dir.glob("*.eml"))
    assert len(emails) == 5
    assert [touch.step for touch in state.touches][:5] == [
        "day-1-case-study",
        "day-3-discovery-challenge",
        "day-5-social-proof",
        "day-7-yes-or-not-yet",
        "day-10-final-note",
    ]
