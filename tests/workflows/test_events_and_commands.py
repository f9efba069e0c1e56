"""Events (signals) and staff commands (updates) on a running lead."""

from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError

from tests.workflows.helpers import days, start, state
from workflows.lead import LeadWorkflow
from workflows.models import (
    CloseInput,
    DeliveryEvent,
    EngagementEvent,
    Mode,
    MoveInput,
    Outcome,
    ReplyEvent,
    TriggerEvent,
)


def click(event_id: str, content: str = "case-study", automated: bool = False) -> EngagementEvent:
    return EngagementEvent(event_id=event_id, kind="click", content_id=content, automated=automated)


async def rejection(call) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as failure:
        await call
    return str(failure.value.cause)


async def test_two_human_clicks_on_one_nurture_piece_move_to_follow_up(env, client, worker, recorder):
    handle = await start(client, worker, mode="nurture")
    await handle.signal(LeadWorkflow.engagement, click("c-1", "case-study"))
    await handle.signal(LeadWorkflow.engagement, click("c-2", "insight"))
    await handle.signal(LeadWorkflow.engagement, click("c-3", "case-study", automated=True))
    assert (await state(handle)).mode == Mode.NURTURE

    await handle.signal(LeadWorkflow.engagement, click("c-4", "case-study"))
    await env.sleep(timedelta(hours=1))

    s = await state(handle)
    assert s.mode == Mode.FOLLOW_UP
    assert s.transitions[-1].reason == "clicked 'case-study' 2 times"
    # The task says what the lead did: clicked (not replied).
    assert [t.kind for t in recorder.tasks] == ["click"]


async def test_a_trigger_moves_a_nurture_lead_to_follow_up(env, client, worker, recorder):
    handle = await start(client, worker, mode="nurture")
    await handle.signal(LeadWorkflow.trigger, TriggerEvent(event_id="t-1", name="funding_round", note="Series B"))
    await env.sleep(days(1) + timedelta(hours=1))

    s = await state(handle)
    assert s.mode == Mode.FOLLOW_UP
    assert s.transitions[-1].reason == "trigger: funding_round"
    assert recorder.steps == ["day-1-case-study"]
    assert [(t.kind, t.note) for t in recorder.tasks] == [("trigger", "Series B")]


@pytest.mark.parametrize(
    ("signal", "event", "outcome"),
    [
        ("engagement", EngagementEvent(event_id="u-1", kind="unsubscribe"), Outcome.UNSUBSCRIBED),
        ("delivery", DeliveryEvent(event_id="b-1", kind="bounce", permanent=True), Outcome.BOUNCED),
        ("delivery", DeliveryEvent(event_id="x-1", kind="complaint"), Outcome.COMPLAINED),
        ("reply", ReplyEvent(event_id="r-1", text="remove me", intent="unsubscribe"), Outcome.UNSUBSCRIBED),
    ],
)
async def test_opt_outs_and_hard_failures_close_the_lead_for_good(env, client, worker, recorder, signal, event, outcome):
    handle = await start(client, worker)
    await env.sleep(days(2))
    await handle.signal(signal, event)

    final = await handle.result()
    assert final.mode == Mode.CLOSED
    assert final.outcome == outcome
    assert recorder.steps == ["day-1-case-study"]


async def test_a_transient_bounce_changes_nothing(env, client, worker, recorder):
    handle = await start(client, worker)
    await handle.signal(LeadWorkflow.delivery, DeliveryEvent(event_id="b-2", kind="bounce", permanent=False))
    await env.sleep(days(3) + timedelta(hours=1))
    assert (await state(handle)).mode == Mode.FOLLOW_UP
    assert recorder.steps == ["day-1-case-study", "day-3-challenge"]


async def test_a_duplicate_event_has_one_effect(env, client, worker, recorder):
    handle = await start(client, worker, mode="nurture")
    reply = ReplyEvent(event_id="dup-1", text="What does it cost?")
    for _ in range(3):
        await handle.signal(LeadWorkflow.reply, reply)
    await handle.signal(LeadWorkflow.engagement, click("same-click"))
    await handle.signal(LeadWorkflow.engagement, click("same-click"))
    await env.sleep(timedelta(hours=1))

    s = await state(handle)
    assert len(recorder.tasks) == 1
    assert len([t for t in s.transitions if t.to_mode == Mode.AWAITING_REP]) == 1
    assert s.human_clicks == {"case-study": 1}


async def test_an_invalid_event_is_kept_with_its_error_not_dropped(env, client, worker, recorder):
    handle = await start(client, worker)
    await handle.signal("delivery", {"event_id": "bad-1", "kind": "exploded"})
    await handle.signal("reply", {"text": "no id"})

    s = await state(handle)
    assert s.mode == Mode.FOLLOW_UP
    assert [(r.signal, r.event_id) for r in s.rejected_events] == [("delivery", "bad-1"), ("reply", None)]
    assert "kind" in s.rejected_events[0].error
    assert "event_id" in s.rejected_events[1].error


async def test_pause_until_a_date_resumes_by_itself(env, client, worker, recorder):
    handle = await start(client, worker)
    today = (await handle.describe()).start_time.date()
    s = await handle.execute_update(LeadWorkflow.pause, {"reason": "rep on leave", "until": (today + timedelta(days=10)).isoformat()})
    assert s.mode == Mode.PAUSED and s.pause_reason == "rep on leave"
    paused_until = s.paused_until
    await env.sleep(days(9))
    assert recorder.steps == []
    await env.sleep(days(3))

    s = await state(handle)
    assert s.mode == Mode.FOLLOW_UP
    assert s.transitions[-1].reason == "pause ended"
    # The day-1 touch was a day away when paused; it is a day after the pause ends.
    assert recorder.steps == ["day-1-case-study"]
    assert abs(s.touches[0].sent_at - paused_until - days(1)) < timedelta(minutes=5)


async def test_move_and_close_commands_return_the_new_state(env, client, worker, recorder):
    handle = await start(client, worker)
    s = await handle.execute_update(LeadWorkflow.move, MoveInput(to="nurture", reason="not ready"))
    assert s.mode == Mode.NURTURE and s.transitions[-1].reason == "not ready"
    s = await handle.execute_update(LeadWorkflow.close, CloseInput(outcome="meeting_booked", note="booked"))
    assert s.mode == Mode.CLOSED and s.outcome == Outcome.MEETING_BOOKED
    # No deal outcome follows: after the wait the run ends, still meeting_booked.
    assert (await handle.result()).outcome == Outcome.MEETING_BOOKED


async def test_a_booked_meeting_can_still_be_closed_as_won_and_nothing_else(env, client, worker, recorder):
    handle = await start(client, worker)
    await handle.execute_update(LeadWorkflow.close, {"outcome": "meeting_booked", "note": "demo on Tuesday"})
    for refused in [("snooze", {"months": 3}), ("move", {"to": "nurture"}), ("close", {"outcome": "unsubscribed"})]:
        assert "closed as meeting_booked" in await rejection(handle.execute_update(*refused))
    s = await handle.execute_update(LeadWorkflow.close, {"outcome": "won", "note": "signed the annual plan"})
    assert (s.mode, s.outcome, s.transitions[-1].reason) == (Mode.CLOSED, Outcome.WON, "signed the annual plan")
    assert [t.to_mode for t in s.transitions] == [Mode.CLOSED, Mode.CLOSED]
    assert (await handle.result()).outcome == Outcome.WON
    assert recorder.steps == []  # no touch while the deal was open


async def test_complete_task_closes_the_rep_task(env, client, worker, recorder):
    handle = await start(client, worker)
    await handle.signal(LeadWorkflow.reply, ReplyEvent(event_id="r-1", text="call me"))
    task_id = (await state(handle)).open_tasks[0].task_id
    s = await handle.execute_update(LeadWorkflow.complete_task, {"task_id": task_id, "result": "called, demo booked"})
    assert s.open_tasks == []
    assert s.done_tasks[0].result == "called, demo booked"


async def test_validators_reject_bad_commands_with_a_reason(env, client, worker, recorder):
    handle = await start(client, worker)
    today = (await handle.describe()).start_time.date()

    assert "longer than 2 years" in await rejection(handle.execute_update(LeadWorkflow.snooze, {"months": 25}))
    assert "in the future" in await rejection(handle.execute_update(LeadWorkflow.snooze, {"until": (today - timedelta(days=1)).isoformat()}))
    assert "at least 1" in await rejection(handle.execute_update("snooze", {"days": 0}))
    assert "exactly one" in await rejection(handle.execute_update("snooze", {"days": 3, "weeks": 1}))
    assert "already in follow_up" in await rejection(handle.execute_update(LeadWorkflow.move, {"to": "follow_up"}))
    assert "nothing to resume" in await rejection(handle.execute_update(LeadWorkflow.resume, {}))
    assert "no open task 'nope'" in await rejection(handle.execute_update(LeadWorkflow.complete_task, {"task_id": "nope"}))
    assert "outcome" in await rejection(handle.execute_update("close", {"outcome": "exploded"}))
    # Nothing changed.
    s = await state(handle)
    assert s.mode == Mode.FOLLOW_UP and len(s.transitions) == 0



async def test_a_closed_lead_takes_no_more_commands(env, client, worker, recorder):
    handle = await start(client, worker)
    await handle.execute_update(LeadWorkflow.close, {"outcome": "lost"})
    assert (await handle.result()).outcome == Outcome.LOST
    # The workflow has completed: the server itself refuses every further command.
    for name, arg in [("snooze", {"months": 3}), ("move", {"to": "nurture"}), ("close", {"outcome": "won"})]:
        with pytest.raises(Exception):
            await handle.execute_update(name, arg)
    assert (await state(handle)).outcome == Outcome.LOST


async def test_snooze_until_a_date_ends_that_morning_in_the_leads_zone(env, client, worker, recorder):
    handle = await start(client, worker)
    until = (await handle.describe()).start_time.date() + timedelta(days=100)
    s = await handle.execute_update(LeadWorkflow.snooze, {"until": until.isoformat(), "reason": "after budget season"})
    # 09:00 in America/Chicago is 14:00 or 15:00 UTC depending on daylight saving.
    assert s.snoozed_until.date() == until and s.snoozed_until.hour in (14, 15)
    assert s.transitions[-1].reason == "after budget season"


async def test_a_template_error_pauses_the_lead_and_resume_retries_the_step(env, client, worker, recorder):
    recorder.broken_templates.add("fu/3")
    handle = await start(client, worker)
    await env.sleep(days(4))

    s = await state(handle)
    assert s.mode == Mode.PAUSED
    assert "day-3-challenge could not be sent" in s.pause_reason
    assert "context.discovery_notes" in s.pause_reason
    assert recorder.steps == ["day-1-case-study"]

    recorder.broken_templates.clear()
    await handle.execute_update(LeadWorkflow.resume, {"note": "template fixed"})
    await env.sleep(timedelta(hours=1))
    assert recorder.steps == ["day-1-case-study", "day-3-challenge"]
    assert (await state(handle)).mode == Mode.FOLLOW_UP


async def test_an_unknown_cadence_pauses_the_lead_with_the_reason(env, client, worker, recorder):
    handle = await start(client, worker, follow_up_cadence="no-such-cadence")
    await env.sleep(timedelta(minutes=5))
    s = await state(handle)
    assert s.mode == Mode.PAUSED
    assert "unknown cadence 'no-such-cadence'" in s.pause_reason


async def test_a_lead_started_with_plain_json_runs(env, client, worker, recorder):
    """What a service in another language sends: the DESIGN.md JSON, no Python models."""
    payload = {
        "lead": {"id": "crm-json-1", "email": "dana@acme.example", "first_name": "Dana",
                 "timezone": "America/Chicago", "phone": "+13125550142", "owner": "rep-7",
                 "attributes": {"challenge": "manual dispatch"}},
        "mode": "follow_up",
        "context": {"trigger": "proposal_sent"},
        "speedup": 1,
    }
    handle = await client.start_workflow("LeadWorkflow", payload, id="lead-crm-json-1", task_queue=worker.task_queue)
    await env.sleep(days(1) + timedelta(hours=1))
    s = await handle.query("state")
    assert s["mode"] == "follow_up" and s["touches"][0]["step"] == "day-1-case-study"


async def test_a_nurture_rotation_as_follow_up_cadence_pauses_instead_of_blasting(env, client, worker, recorder):
    handle = await start(client, worker, follow_up_cadence="nurture")
    await env.sleep(timedelta(minutes=5))
    s = await state(handle)
    assert s.mode == Mode.PAUSED
    assert "cadence 'nurture' is a nurture cadence and cannot be the follow-up cadence" in s.pause_reason
    assert recorder.steps == []


async def test_a_permanently_rejected_touch_is_recorded_and_the_cadence_goes_on(env, client, worker, recorder):
    recorder.rejected_templates.add("fu/3")
    handle = await start(client, worker)
    await env.sleep(days(5) + timedelta(hours=1))

    s = await state(handle)
    assert s.mode == Mode.FOLLOW_UP
    assert [(t.step, t.status) for t in s.touches] == [
        ("day-1-case-study", "sent"),
        ("day-3-challenge", "rejected"),
        ("day-5-social-proof", "sent"),
    ]
    assert "MessageRejected" in s.touches[1].detail


async def test_a_suppressed_address_closes_the_lead(env, client, worker, recorder):
    recorder.suppressed = "BOUNCE (on the SES account suppression list)"
    handle = await start(client, worker)
    final = await handle.result()
    assert final.mode == Mode.CLOSED and final.outcome == Outcome.BOUNCED
    assert [t.status for t in final.touches] == ["skipped"]
    assert "suppressed" in final.transitions[-1].reason
