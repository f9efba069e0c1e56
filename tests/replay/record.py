"""Record the replay histories: `python -m tests.replay.record`.

It records only scenarios that have no history yet; a committed history is never
re-recorded to make a replay test pass. Histories of leads already running in production are the reason
the replay tests exist: a change that breaks them needs `workflow.patched`.
"""

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.support.servers import start_time_skipping_server
from tests.workflows.fakes import Recorder, enroll
from workflows.lead import LeadWorkflow
from workflows.models import CloseInput, EngagementEvent, ReplyEvent, TriggerEvent
from workflows.sandbox import workflow_runner

HISTORIES = Path(__file__).parent / "histories"
DAY = timedelta(days=1)

Scenario = Callable[[WorkflowEnvironment, WorkflowHandle], Awaitable[None]]


async def follow_up_to_nurture(env: WorkflowEnvironment, handle: WorkflowHandle) -> None:
    await env.sleep(10 * DAY + timedelta(hours=1))


async def reply_on_day_4(env: WorkflowEnvironment, handle: WorkflowHandle) -> None:
    await env.sleep(4 * DAY)
    await handle.signal(LeadWorkflow.reply, ReplyEvent(event_id="r-1", text="Can we talk Thursday?"))
    await env.sleep(DAY)
    await handle.signal(LeadWorkflow.reply, ReplyEvent(event_id="r-1", text="duplicate"))
    await env.sleep(2 * DAY)


async def snooze_pause_resume(env: WorkflowEnvironment, handle: WorkflowHandle) -> None:
    await env.sleep(2 * DAY)
    await handle.execute_update(LeadWorkflow.pause, {"reason": "rep on leave"})
    await env.sleep(3 * DAY)
    await handle.execute_update(LeadWorkflow.resume, {})
    await env.sleep(DAY)
    await handle.execute_update(LeadWorkflow.snooze, {"days": 20, "reason": "after the board meeting"})
    await env.sleep(5 * DAY)


async def nurture_clicks_and_trigger(env: WorkflowEnvironment, handle: WorkflowHandle) -> None:
    await env.sleep(40 * DAY)
    await handle.signal(LeadWorkflow.engagement, EngagementEvent(event_id="c-1", kind="click", content_id="insight"))
    await handle.signal(LeadWorkflow.trigger, TriggerEvent(event_id="t-1", name="funding_round"))
    await handle.signal("delivery", {"event_id": "bad", "kind": "exploded"})
    await env.sleep(2 * DAY)


async def classified_replies_held_in_run(env: WorkflowEnvironment, handle: WorkflowHandle) -> None:
    """Out-of-office pause and a rep hold that stay in the run, STOP, a not-now snooze."""
    today = (await handle.describe()).start_time.date()
    await env.sleep(2 * DAY)
    await handle.signal(LeadWorkflow.reply, ReplyEvent(
        event_id="ooo-1", text="out of office", intent="auto_reply", until=today + 6 * DAY, explanation="header"))
    await env.sleep(8 * DAY)
    await handle.signal(LeadWorkflow.engagement, EngagementEvent(event_id="sms-1", kind="sms_opt_out"))
    await handle.signal(LeadWorkflow.reply, ReplyEvent(event_id="q-1", text="What does it cost?", intent="question"))
    await env.sleep(DAY)
    await handle.execute_update(LeadWorkflow.resume, {})
    await env.sleep(DAY)
    await handle.signal(LeadWorkflow.reply, ReplyEvent(
        event_id="nn-1", text="check back in a month", intent="not_now", until=today + 45 * DAY))
    await env.sleep(DAY)


async def nurture_click_visits(env: WorkflowEnvironment, handle: WorkflowHandle) -> None:
    """A burst on one piece counts once; a second visit a day later moves to follow-up."""
    at = datetime.now(UTC)
    await env.sleep(DAY)
    for n in range(3):
        await handle.signal(LeadWorkflow.engagement, EngagementEvent(
            event_id=f"b-{n}", kind="click", content_id="case-study", at=at + timedelta(milliseconds=300 * n)))
    await env.sleep(DAY)
    await handle.signal(LeadWorkflow.engagement, EngagementEvent(
        event_id="later", kind="click", content_id="case-study", at=at + DAY))
    await env.sleep(2 * DAY)


async def bad_signals_and_planned_windows(env: WorkflowEnvironment, handle: WorkflowHandle) -> None:
    """Signals that are not events (none, two, not an object, an unknown name, invalid)
    kept as rejected and waking the loop (`rejects-wake`), with the planned send time
    published (`publish-planned`), then a real event."""
    await env.sleep(DAY / 2)
    await handle.signal("trigger", args=[])
    await handle.signal("reply", args=[{"event_id": "a"}, {"event_id": "b"}])
    await handle.signal("engagement", "open")
    await handle.signal("replied", {"event_id": "x"})
    await handle.signal("delivery", {"event_id": "bad", "kind": "exploded"})
    await env.sleep(DAY)
    await handle.signal(LeadWorkflow.reply, ReplyEvent(event_id="r-1", text="Let's talk", intent="positive"))
    await env.sleep(2 * DAY)


async def meeting_booked_then_won(env: WorkflowEnvironment, handle: WorkflowHandle) -> None:
    """A booked meeting keeps the run open for the deal (`deal-outcome`): a reply then is
    recorded only, and a close as won ends it."""
    await env.sleep(DAY * 2)
    await handle.execute_update(LeadWorkflow.close, CloseInput(outcome="meeting_booked", note="demo booked"))
    await env.sleep(DAY * 10)
    await handle.signal(LeadWorkflow.reply, ReplyEvent(event_id="r-1", text="See you Tuesday", intent="positive"))
    await env.sleep(DAY * 20)
    await handle.execute_update(LeadWorkflow.close, CloseInput(outcome="won", note="signed"))
    await handle.result()


SCENARIOS: dict[str, tuple[str, Scenario]] = {
    # Recorded before send windows (no `send-windows` patch marker): the old path.
    "follow_up_to_nurture": ("follow_up", follow_up_to_nurture),
    "reply_on_day_4": ("follow_up", reply_on_day_4),
    "snooze_pause_resume": ("follow_up", snooze_pause_resume),
    "nurture_clicks_and_trigger": ("nurture", nurture_clicks_and_trigger),
    # Recorded with send windows planned by a local activity.
    "windowed_follow_up_to_nurture": ("follow_up", follow_up_to_nurture),
    "windowed_snooze_pause_resume": ("follow_up", snooze_pause_resume),
    # Recorded with classified replies, STOP, click visits (`click-visits` patch) and holds
    # that keep their run (`hold-in-run` patch).
    "classified_replies_held_in_run": ("follow_up", classified_replies_held_in_run),
    "nurture_click_visits": ("nurture", nurture_click_visits),
    # Recorded with raw handler arguments (`rejects-wake`) and `publish-planned`.
    "bad_signals_and_planned_windows": ("nurture", bad_signals_and_planned_windows),
    # Recorded with a booked meeting waiting for its deal's outcome (`deal-outcome`).
    "meeting_booked_then_won": ("follow_up", meeting_booked_then_won),
}


async def record(env: WorkflowEnvironment, name: str, mode: str, scenario: Scenario) -> None:
    client: Client = env.client
    queue = f"record-{uuid.uuid4()}"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[LeadWorkflow],
        activities=Recorder().activities(),
        workflow_runner=workflow_runner(),
    ):
        lead_id = f"replay-{name.replace('_', '-')}"
        handle = await client.start_workflow(
            LeadWorkflow.run, enroll(mode, lead_id=lead_id), id=f"lead-{lead_id}", task_queue=queue
        )
        await scenario(env, handle)
        # Every run of the lead: continue-as-new splits one lead into several histories.
        run_id = handle.first_execution_run_id
        index = 0
        while run_id:
            run = client.get_workflow_handle(handle.id, run_id=run_id)
            history = await run.fetch_history()
            path = HISTORIES / f"{name}.run{index}.json"
            path.write_text(history.to_json())
            print(f"wrote {path.name}: {len(history.events)} events")
            last = history.events[-1]
            run_id = (
                last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
                if last.HasField("workflow_execution_continued_as_new_event_attributes")
                else None
            )
            index += 1


async def main() -> None:
    HISTORIES.mkdir(exist_ok=True)
    for name, (mode, scenario) in SCENARIOS.items():
        if any(HISTORIES.glob(f"{name}.run*.json")):
            continue
        async with await start_time_skipping_server() as env:
            await record(env, name, mode, scenario)


if __name__ == "__main__":
    asyncio.run(main())
