import uuid
from datetime import timedelta

from tests.workflows.fakes import enroll
from workflows.lead import LeadWorkflow
from workflows.models import Mode


async def test_follow_up_path(env, client, worker, recorder):
    lead_id = f"t-{uuid.uuid4().hex[:8]}"
    handle = await client.start_workflow(
        LeadWorkflow.run, enroll(lead_id=lead_id), id=f"lead-{lead_id}", task_queue=worker.task_queue
    )
    await env.sleep(timedelta(days=10, hours=1))
    state = await handle.query(LeadWorkflow.state)
    print(state.model_dump_json(indent=1))
    assert state.mode == Mode.NURTURE
    assert recorder.steps == ["day-1-case-study", "day-3-challenge", "day-5-social-proof", "day-7-yes-or-not-yet", "day-10-final-note"]
