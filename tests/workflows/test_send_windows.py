"""Touches land inside the lead's own send window (issue: send windows)."""

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from zoneinfo import ZoneInfo

from temporalio.worker import Worker

from activities.windows.planner import SendWindowActivities
from tests.workflows.fakes import enroll
from tests.workflows.helpers import days, state
from workflows import names, search_attributes
from workflows.lead import LeadWorkflow
from workflows.sandbox import workflow_runner
from workflows.send_window_models import SendWindowPolicy


def windowed_worker(client, recorder) -> Worker:
    """The fakes, but the real send-window planner."""
    fakes = [a for a in recorder.activities() if a.__temporal_activity_definition.name != names.PLAN_SEND]
    return Worker(
        client,
        task_queue=f"test-{uuid.uuid4()}",
        workflows=[LeadWorkflow],
        activities=[*fakes, SendWindowActivities(SendWindowPolicy()).plan_send],
        workflow_runner=workflow_runner(),
        activity_executor=ThreadPoolExecutor(2),
    )


async def test_a_day_3_touch_lands_in_business_hours_in_tokyo_and_in_new_york(env, client, recorder):
    async with windowed_worker(client, recorder) as worker:
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


async def test_a_region_that_cannot_be_resolved_pauses_the_lead_with_the_reason(env, client, recorder):
    async with windowed_worker(client, recorder) as worker:
        payload = enroll(lead_id="on-1")
        payload.lead.attributes["state"] = "ON"  # a Canadian province, read as a US state
        handle = await client.start_workflow(LeadWorkflow.run, payload, id="lead-on-1", task_queue=worker.task_queue)
        await env.sleep(timedelta(hours=1))
        for _ in range(50):  # the local activity's failure lands in a later workflow task
            s = await state(handle)
            if s.mode.value != "follow_up":
                break
            await asyncio.sleep(0.1)
        assert s.mode.value == "paused"
        assert "US-ON" in s.pause_reason and "resume" in s.pause_reason
        assert recorder.steps == []


async def test_ops_see_the_planned_send_time_in_search_attributes_and_details(env, client, recorder):
    """One next-touch time everywhere: `state`, the LeadNextTouchAt attribute and the
    details panel all show the time the window planned, not the bare due time."""
    async with windowed_worker(client, recorder) as worker:
        payload = enroll(lead_id=f"w-{uuid.uuid4().hex[:8]}")
        payload.lead.timezone = "Asia/Tokyo"
        handle = await client.start_workflow(
            LeadWorkflow.run, payload, id=f"lead-{payload.lead.id}", task_queue=worker.task_queue
        )
        await env.sleep(timedelta(minutes=1))
        s = await state(handle)
        described = await handle.describe()
        assert s.next_touch_at is not None and "Asia/Tokyo" in s.next_touch
        assert described.typed_search_attributes.get(search_attributes.LEAD_NEXT_TOUCH_AT) == s.next_touch_at
        assert f"at {s.next_touch_at:%Y-%m-%d %H:%M} UTC" in (await handle.query("__temporal_workflow_metadata")).current_details
