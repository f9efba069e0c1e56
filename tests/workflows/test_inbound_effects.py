"""What classified replies, SMS keywords, scanner bursts and late provider events do to
a running lead (issue: events in). The ingestion worker decides the intent and the date;
these tests pin what the workflow does with them."""

from datetime import datetime, timedelta, timezone

import pytest

from tests.workflows.helpers import days, start, state
from workflows.lead import LeadWorkflow
from workflows.models import DeliveryEvent, EngagementEvent, Mode, Outcome, ReplyEvent


async def today(handle):
    return (await handle.describe()).start_time.date()


async def test_an_out_of_office_with_a_return_date_pauses_then_goes_on_where_it_was(env, client, worker, recorder):
    handle = await start(client, worker)
    await env.sleep(days(1) + timedelta(hours=1))
    assert recorder.steps == ["day-1-case-study"]
    back = await today(handle) + timedelta(days=10)
    await handle.signal(
        LeadWorkflow.reply,
        ReplyEvent(event_id="ooo-1", text="I am out of the office", intent="auto_reply", until=back,
                   explanation="auto-reply: header Auto-Submitted"),
    )
    await env.sleep(timedelta(minutes=1))
    s = await state(handle)
    assert s.mode == Mode.PAUSED
    assert s.paused_until is not None and s.paused_until.date() == back
    assert s.transitions[-1].reason.startswith(f"auto-reply: away until {back.isoformat()}")
    assert recorder.tasks == []  # an out-of-office needs no rep

    await env.sleep(days(10))
    assert recorder.steps == ["day-1-case-study"]  # nothing while away
    # The pause ends at 09:00 on `back`; day 3 is due 1 day 23 hours later and day 5 two
    # days after that. Two more days land between them whatever the time of day now.
    await env.sleep(days(2))
    s = await state(handle)
    assert s.mode == Mode.FOLLOW_UP
    assert s.transitions[-1].reason == "pause ended"
    # Where it was: day 3 was ~1 day away when the auto-reply came; it follows the pause.
    assert recorder.steps == ["day-1-case-study", "day-3-challenge"]


async def test_an_out_of_office_without_a_date_changes_nothing(env, client, worker, recorder):
    handle = await start(client, worker)
    await handle.signal(LeadWorkflow.reply, ReplyEvent(event_id="ooo-2", text="away", intent="auto_reply"))
    await env.sleep(days(1) + timedelta(hours=1))
    s = await state(handle)
    assert s.mode == Mode.FOLLOW_UP and recorder.steps == ["day-1-case-study"]


async def test_not_now_with_a_date_snoozes_until_that_morning_then_checks_in(env, client, worker, recorder):
    handle = await start(client, worker)
    await env.sleep(days(2))
    until = await today(handle) + timedelta(days=90)
    await handle.signal(
        LeadWorkflow.reply,
        ReplyEvent(event_id="nn-1", text="check back in 3 months", intent="not_now", until=until),
    )
    await env.sleep(timedelta(minutes=1))
    s = await state(handle)
    assert s.mode == Mode.SNOOZED
    assert s.snoozed_until is not None and s.snoozed_until.date() == until
    assert s.snoozed_until.astimezone().utcoffset() is not None
    await env.sleep(days(87))  # day 89 of 90
    assert recorder.steps == ["day-1-case-study"]
    await env.sleep(days(3))
    assert recorder.steps == ["day-1-case-study", "check-in"]
    assert (await state(handle)).mode == Mode.NURTURE


@pytest.mark.parametrize("offset_days", [-3, -1, 800])
async def test_a_classifier_date_in_the_past_or_too_far_hands_the_reply_to_a_rep(env, client, worker, recorder, offset_days):
    handle = await start(client, worker)
    until = await today(handle) + timedelta(days=offset_days)
    await handle.signal(
        LeadWorkflow.reply, ReplyEvent(event_id="nn-2", text="not now", intent="not_now", until=until)
    )
    await env.sleep(timedelta(hours=1))
    s = await state(handle)
    assert s.mode == Mode.AWAITING_REP
    assert [t.kind for t in recorder.tasks] == ["reply"]


async def test_a_clear_no_closes_as_lost_with_the_classifiers_reason(env, client, worker, recorder):
    handle = await start(client, worker)
    await handle.signal(
        LeadWorkflow.reply,
        ReplyEvent(event_id="no-1", text="We went with another vendor", intent="negative",
                   explanation="negative: 'went with another vendor'"),
    )
    final = await handle.result()
    assert final.outcome == Outcome.LOST
    assert "went with another vendor" in final.transitions[-1].reason


async def test_sms_stop_skips_texts_but_email_goes_on_and_start_resumes_them(env, client, worker, recorder):
    handle = await start(client, worker, follow_up_cadence="dunning", lead={
        "id": "sms-lead", "email": "dana@acme.example", "phone": "+13125550142", "sms_consent": True,
    })
    await handle.signal(LeadWorkflow.engagement, EngagementEvent(event_id="sms:1", kind="sms_opt_out"))
    assert (await state(handle)).sms_opted_out is True
    await env.sleep(days(8))
    s = await state(handle)
    assert s.mode == Mode.FOLLOW_UP
    assert [(t.step, t.status) for t in s.touches] == [("day-0-email", "sent"), ("day-7-sms", "skipped")]
    assert "texted STOP" in s.touches[-1].detail
    assert recorder.steps == ["day-0-email"]  # the SMS activity was never called

    await handle.signal(LeadWorkflow.engagement, EngagementEvent(event_id="sms:2", kind="sms_opt_in"))
    assert (await state(handle)).sms_opted_out is False


async def test_a_burst_of_clicks_on_one_piece_counts_as_one_visit(env, client, worker, recorder):
    handle = await start(client, worker, mode="nurture")
    at = datetime(2026, 11, 23, 9, 0, 0, tzinfo=timezone.utc)
    for n, link in enumerate(["https://a.example/1", "https://a.example/2", "https://a.example/3"]):
        await handle.signal(
            LeadWorkflow.engagement,
            EngagementEvent(event_id=f"burst-{n}", kind="click", content_id="case-study", url=link,
                            at=at + timedelta(milliseconds=300 * n)),
        )
    s = await state(handle)
    assert s.mode == Mode.NURTURE
    assert s.human_clicks == {"case-study": 1}

    # A real second visit a day later is repeated interest.
    await handle.signal(
        LeadWorkflow.engagement,
        EngagementEvent(event_id="later", kind="click", content_id="case-study", at=at + days(1)),
    )
    s = await state(handle)
    assert s.mode == Mode.FOLLOW_UP
    assert s.transitions[-1].reason == "clicked 'case-study' 2 times"


async def test_a_bounce_after_its_delivery_still_closes_and_late_delivery_changes_nothing(env, client, worker, recorder):
    handle = await start(client, worker)
    await env.sleep(days(1) + timedelta(hours=1))
    await handle.signal(LeadWorkflow.delivery, DeliveryEvent(event_id="ses:m1:delivery", kind="delivered"))
    await handle.signal(LeadWorkflow.delivery, DeliveryEvent(event_id="ses:m1:delayed", kind="delayed"))
    assert (await state(handle)).mode == Mode.FOLLOW_UP
    await handle.signal(
        LeadWorkflow.delivery, DeliveryEvent(event_id="ses:m1:bounce:f1", kind="bounce", permanent=True)
    )
    final = await handle.result()
    assert final.outcome == Outcome.BOUNCED
