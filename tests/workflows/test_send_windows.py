"""Touches land inside the lead's own send window (issue: send windows)."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from zoneinfo import ZoneInfo

from temporalio.worker import Worker

from activities.send_windows import SendWindowActivities
from tests.workflows.fakes import enroll
from tests.workflows.helpers import days, state
from workflows import names
from workflows.lead import LeadWorkflow
from workflows.sandbox import workflow_runner
from workflows.send_window_models import SendWindowPolicy


async def test_a_day_3_touch_lands_in_business_hours_in_tokyo_and_in_new_york(env, client, recorder):
    fakes = [a for a in recorder.activities() if a.__temporal_activity_definition.name != names.PLAN_SEND]
    real_plan = SendWindowActivities(SendWindowPolicy()).plan_send
    async with Worker(
        client,
        task_queue=f"test-{uuid.uuid4()}",
        workflows=[LeadWorkflow],
        activities=[*fakes, real_plan],
        workflow_runner=workflow_runner(),
        activity_executor=ThreadPoolExecutor(2),
    ) as worker:
        leads = {}
        for zone in ("Asia/Tokyo", "America/New_York"):
            payload = enroll(lead_id=f"w-{uuid.uuid4().hex[:8]}")
            payload.lead.timezone = zone
            leads[zone] = await client.start_workflow(
                LeadWorkflow.run, payload, id=f"lead-{payload.lead.id}", task_queue=worker.task_queue
            )
        await env.sleep(days(8))

        for zone, handle in leads.items():
            s = await state(handle)
            day_3 = next(t for t in s.touches if t.step == "day-3-challenge")
            local = day_3.sent_at.astimezone(ZoneInfo(zone))
            assert local.weekday() < 5, f"{zone}: sent on {local:%A}"
            assert 9 <= local.hour < 17, f"{zone}: sent at {local:%H:%M}"
            # The timer label ops see names the local send time.
            assert zone in s.next_touch and s.next_touch.startswith("day ")
            assert s.next_touch_at > s.touches[-1].sent_at


async def test_fast_clock_runs_keep_plain_day_offsets_and_plan_no_windows(env, client, worker, recorder):
    payload = enroll(lead_id="fast-1", speedup=1440)
    handle = await client.start_workflow(LeadWorkflow.run, payload, id="lead-fast-1", task_queue=worker.task_queue)
    await env.sleep(timedelta(minutes=11))
    assert recorder.plans == []
    assert [t.step for t in (await state(handle)).touches][:2] == ["day-1-case-study", "day-3-challenge"]
