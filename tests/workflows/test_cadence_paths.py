"""The cadence paths of seed 000, on the time-skipping server."""

from datetime import timedelta

from tests.workflows.helpers import days, start, state
from workflows.lead import LeadWorkflow
from workflows.models import Mode, ReplyEvent, SnoozeInput

FOLLOW_UP_STEPS = [
    "day-1-case-study",
    "day-3-challenge",
    "day-5-social-proof",
    "day-7-yes-or-not-yet",
    "day-10-final-note",
]


async def test_follow_up_sends_days_1_3_5_7_10_then_moves_to_nurture(env, client, worker, recorder):
    handle = await start(client, worker)
    started = (await handle.describe()).start_time

    await env.sleep(days(10) + timedelta(hours=1))

    s = await state(handle)
    assert recorder.steps == FOLLOW_UP_STEPS
    offsets = [round((t.sent_at - started) / days(1), 2) for t in s.touches]
    assert offsets == [1, 3, 5, 7, 10]
    assert s.mode == Mode.NURTURE
    assert s.transitions[-1].reason == "follow-up finished with no reply"
    assert s.step == "insight" and s.cadence == "nurture@v1"
    # The first nurture touch is a month after the last follow-up touch.
    assert 28 <= (s.next_touch_at - s.touches[-1].sent_at) / days(1) <= 31


async def test_send_keys_are_unique_per_touch_and_carry_the_lead_and_step(env, client, worker, recorder):
    handle = await start(client, worker)
    await env.sleep(days(11))
    keys = [t.send_key for t in recorder.touches]
    lead_id = (await state(handle)).lead_id
    assert len(set(keys)) == 5
    assert keys[0] == f"{lead_id}:00001:day-1-case-study"


async def test_reply_on_day_4_stops_automation_and_creates_a_rep_task(env, client, worker, recorder):
    handle = await start(client, worker)
    await env.sleep(days(4))
    await handle.signal(
        LeadWorkflow.reply, ReplyEvent(event_id="r-1", text="Can we talk Thursday?", channel="email")
    )
    await env.sleep(days(30))

    s = await state(handle)
    assert recorder.steps == FOLLOW_UP_STEPS[:2]
    assert s.mode == Mode.AWAITING_REP
    assert s.next_touch_at is None
    assert [t.kind for t in recorder.tasks] == ["reply"]
    assert recorder.tasks[0].note == "Can we talk Thursday?"
    assert [t.task_id for t in s.open_tasks] == [recorder.tasks[0].task_id]


async def test_resume_after_a_reply_continues_the_sequence_with_its_spacing(env, client, worker, recorder):
    handle = await start(client, worker)
    await env.sleep(days(4))
    await handle.signal(LeadWorkflow.reply, ReplyEvent(event_id="r-1", text="later"))
    await env.sleep(days(20))
    s = await handle.execute_update(LeadWorkflow.resume, {})
    assert s.mode == Mode.FOLLOW_UP and s.step == "day-5-social-proof"
    # Day 5 was one day away when the reply came; it is one day away again.
    assert abs((s.next_touch_at - s.transitions[-1].at) - days(1)) < timedelta(minutes=1)
    await env.sleep(days(7))
    assert recorder.steps == FOLLOW_UP_STEPS


async def test_not_now_three_months_then_check_in_then_nurture(env, client, worker, recorder):
    handle = await start(client, worker)
    await env.sleep(days(2))
    s = await handle.execute_update(LeadWorkflow.snooze, SnoozeInput(months=3, reason="not now, after Q1"))
    assert s.mode == Mode.SNOOZED
    assert s.step == "check-in"
    assert 89 <= (s.snoozed_until - s.transitions[-1].at) / days(1) <= 92

    await env.sleep(days(80))
    assert recorder.steps == FOLLOW_UP_STEPS[:1]
    await env.sleep(days(15))

    s = await state(handle)
    assert recorder.steps == [FOLLOW_UP_STEPS[0], "check-in"]
    assert s.mode == Mode.NURTURE
    assert s.transitions[-1].reason == "snooze ended: check-in sent"


async def test_positive_answer_to_the_check_in_moves_to_follow_up(env, client, worker, recorder):
    handle = await start(client, worker, mode="nurture")
    await handle.execute_update(LeadWorkflow.snooze, {"weeks": 6})
    await env.sleep(days(43))
    await handle.signal(
        LeadWorkflow.reply, ReplyEvent(event_id="r-9", text="Yes, let's talk", intent="positive")
    )
    await env.sleep(days(1) + timedelta(hours=1))

    s = await state(handle)
    assert s.mode == Mode.FOLLOW_UP
    assert s.transitions[-1].reason == "lead answered the check-in positively"
    assert recorder.steps == ["check-in", "day-1-case-study"]
    assert recorder.tasks[0].title.startswith("Lead answered the check-in positively")


async def test_two_years_of_nurture_rotate_monthly_and_keep_each_history_small(env, client, worker, recorder):
    handle = await start(client, worker, mode="nurture")
    await env.sleep(days(733))

    s = await state(handle)
    assert s.touches_total == 24
    assert recorder.steps[:7] == [
        "insight", "case-study", "whats-changed", "direct-check-in", "new-resource", "gentle-offer", "insight",
    ]
    gaps = [round((b.sent_at - a.sent_at) / days(1)) for a, b in zip(s.touches, s.touches[1:])]
    assert all(28 <= gap <= 31 for gap in gaps)
    # Continue-as-new after every 12 touches: two years are several short runs.
    assert s.run >= 2
    history = await handle.fetch_history()
    assert len(history.events) <= 200
    assert s.mode == Mode.NURTURE


async def test_speedup_divides_every_wait(env, client, worker, recorder):
    handle = await start(client, worker, speedup=1440)  # one day per minute
    await env.sleep(timedelta(minutes=10, seconds=30))
    assert recorder.steps == FOLLOW_UP_STEPS
    assert (await state(handle)).mode == Mode.NURTURE


async def test_sequence_with_stop_ends_closed_and_mixes_channels(env, client, worker, recorder):
    handle = await start(client, worker, follow_up_cadence="dunning")
    await env.sleep(days(10) + timedelta(hours=1))
    # The call step waits for the rep's task (up to 3 days) before the sequence ends.
    assert (await state(handle)).mode == Mode.FOLLOW_UP
    await env.sleep(days(3))

    s = await state(handle)
    assert [t.status for t in s.touches] == ["sent", "skipped", "task_created"]
    assert s.touches[1].detail == "no SMS consent"
    assert [t.kind for t in recorder.tasks] == ["call"]
    # The call task ends with the lead: no one works a closed lead.
    assert s.open_tasks == []
    assert [(t.task_id, t.result) for t in s.done_tasks] == [(recorder.tasks[0].task_id, "lead closed")]
    assert s.mode == Mode.CLOSED and s.outcome is None
    assert s.transitions[-1].reason == "dunning finished with no reply"
    assert await handle.result() == s


async def test_a_reply_during_a_snooze_then_resume_waits_out_the_snooze(env, client, worker, recorder):
    handle = await start(client, worker, mode="nurture")
    snoozed = await handle.execute_update(LeadWorkflow.snooze, SnoozeInput(days=30))
    await env.sleep(days(5))
    await handle.signal(LeadWorkflow.reply, ReplyEvent(event_id="r-1", text="quick question"))
    await env.sleep(days(1))
    s = await handle.execute_update(LeadWorkflow.resume, {})
    assert s.mode == Mode.SNOOZED and s.snoozed_until == snoozed.snoozed_until
    await env.sleep(days(20))
    assert recorder.steps == []
    await env.sleep(days(5))
    assert recorder.steps == ["check-in"]


async def test_follow_ups_thread_onto_the_previous_email_and_nurture_starts_fresh(env, client, worker, recorder):
    await start(client, worker)
    await env.sleep(days(45))
    threads = {t.step.key: t.thread_with for t in recorder.touches}
    assert threads["day-1-case-study"] is None
    assert threads["day-3-challenge"] == f"<{recorder.touches[0].send_key}>"
    assert threads["day-7-yes-or-not-yet"] == f"<{recorder.touches[2].send_key}>"
    assert threads["day-10-final-note"] is None  # the step opts out: a fresh subject line
    assert threads["insight"] is None


async def test_a_call_step_ends_the_wait_when_the_rep_completes_the_task(env, client, worker, recorder):
    handle = await start(client, worker, follow_up_cadence="dunning")
    await env.sleep(days(10) + timedelta(hours=1))
    s = await state(handle)
    assert s.mode == Mode.FOLLOW_UP and [t.kind for t in s.open_tasks] == ["call"]
    await handle.execute_update(LeadWorkflow.complete_task, {"task_id": s.open_tasks[0].task_id, "result": "paid by card"})
    final = await handle.result()
    assert final.mode == Mode.CLOSED
    assert final.done_tasks[0].result == "paid by card"
    assert (final.transitions[-1].at - s.touches[-1].sent_at) < days(1)
