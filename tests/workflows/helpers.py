import uuid
from datetime import timedelta

from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from tests.workflows.fakes import enroll
from workflows.lead import LeadWorkflow
from workflows.models import LeadState


async def start(client: Client, worker: Worker, mode: str = "follow_up", **extra) -> WorkflowHandle:
    lead_id = f"t-{uuid.uuid4().hex[:10]}"
    handle = await client.start_workflow(
        LeadWorkflow.run,
        enroll(mode, lead_id=lead_id, **extra),
        id=f"lead-{lead_id}",
        task_queue=worker.task_queue,
    )
    return handle


async def state(handle: WorkflowHandle) -> LeadState:
    return await handle.query(LeadWorkflow.state)


def days(n: float) -> timedelta:
    return timedelta(days=n)
