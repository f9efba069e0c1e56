"""LeadMachine without a server: a clock, a logger and a patch check handed in.

What the workflow tests show through Temporal, shown here on the state alone: a row of
the transition table carried out, the wait kept across a hold, the tasks a reply queues.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import pytest

from activities.content.cadences import CadenceStore
from workflows.errors import CommandRejected
from workflows.lead_machine import LeadMachine
from workflows.models import (
    CloseInput,
    EngagementEvent,
    EnrollLead,
    Mode,
    MoveInput,
    Outcome,
    PauseInput,
    ReplyEvent,
    ResumeInput,
    SnoozeInput,
)

START = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
STORE = CadenceStore(None)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def machine(mode: str = "follow_up", *, patched: bool = True) -> tuple[LeadMachine, Clock]:
    clock = Clock()
    lead = LeadMachine(
        EnrollLead.model_validate({"lead": {"id": "crm-7", "email": "dana@acme.example", "owner": "rep-7"}, "mode": mode}),
        clock=clock,
        patched=lambda _patch: patched,
        log=logging.getLogger("test.lead_machine"),
    )
    lead.m.follow_up, lead.m.nurture = STORE.get("follow-up"), STORE.get("nurture")
    lead.begin(Mode(mode))
    return lead, clock


def test_the_first_follow_up_touch_is_due_on_day_1_and_shown_with_its_label() -> None:
    lead, _ = machine()
    assert lead.m.due_at == START + timedelta(days=1)
    assert (lead.s.step, lead.s.next_touch) == ("day-1-case-study", "day 1: value-add case study")


def test_a_human_reply_hands_the_lead_to_its_rep_and_queues_one_task() -> None:
    lead, _ = machine()
    version = lead.version
    lead.receive("reply", ({"event_id": "r-1", "text": "Can we talk Tuesday?"},), ReplyEvent, lead.on_reply)
    assert lead.s.mode == Mode.AWAITING_REP
    assert lead.version > version  # a waiting main loop wakes up
    [task] = lead.m.pending_tasks
    assert (task.kind, task.owner, task.title) == ("reply", "rep-7", "Lead replied: read it and answer personally")
    assert task.speedup == 1  # the lead's clock rides on the task (a fast one never reaches a real queue)
    assert task.note == "Can we talk Tuesday?"
    assert [t.task_id for t in lead.s.open_tasks] == [task.task_id]


def test_the_same_event_twice_changes_the_lead_once() -> None:
    lead, _ = machine()
    for _ in range(2):
        lead.receive("reply", ({"event_id": "r-1", "text": "hi"},), ReplyEvent, lead.on_reply)
    assert len(lead.m.pending_tasks) == 1 and lead.events_this_run == 1


def test_an_invalid_event_is_kept_with_its_error_not_dropped() -> None:
    lead, _ = machine()
    lead.receive("engagement", ({"event_id": "e-1", "kind": "wave"},), EngagementEvent, lead.on_engagement)
    [rejected] = lead.s.rejected_events
    assert (rejected.signal, rejected.event_id) == ("engagement", "e-1")
    assert "kind" in rejected.error and lead.s.mode == Mode.FOLLOW_UP


def test_pause_then_resume_keeps_the_wait_that_was_left() -> None:
    lead, clock = machine()
    clock.now = START + timedelta(hours=6)  # 18 hours before day 1
    lead.check_pause(PauseInput(reason="on leave"))
    lead.on_pause(PauseInput(reason="on leave"))
    assert (lead.s.mode, lead.s.pause_reason, lead.m.due_at) == (Mode.PAUSED, "on leave", None)
    clock.now = START + timedelta(days=5)
    lead.on_resume(ResumeInput())
    assert lead.s.mode == Mode.FOLLOW_UP
    assert lead.m.due_at == clock.now + timedelta(hours=18)
    assert lead.s.transitions[-1].reason == "resumed by staff"


def test_resume_is_refused_when_nothing_is_held() -> None:
    lead, _ = machine()
    with pytest.raises(CommandRejected, match="nothing to resume"):
        lead.check_resume(ResumeInput())


def test_snooze_waits_until_the_local_morning_then_checks_in_into_nurture() -> None:
    lead, _ = machine()
    lead.check_snooze(SnoozeInput(until=date(2026, 6, 1)))
    lead.on_snooze(SnoozeInput(until=date(2026, 6, 1)))
    assert lead.s.mode == Mode.SNOOZED
    assert lead.s.snoozed_until == datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    assert lead.s.step == "snooze-check-in"
    lead.checked_in()
    assert lead.s.mode == Mode.NURTURE
    assert lead.s.transitions[-1].reason == "snooze ended: check-in sent"


def test_a_not_now_reply_with_a_date_snoozes_without_a_rep_task() -> None:
    lead, _ = machine("nurture")
    reply = {"event_id": "r-2", "text": "ask me in June", "intent": "not_now", "until": "2026-06-01"}
    lead.receive("reply", (reply,), ReplyEvent, lead.on_reply)
    assert lead.s.mode == Mode.SNOOZED and lead.m.pending_tasks == []
    assert lead.s.snoozed_until == datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("patched", "mode"), [(True, Mode.NURTURE), (False, Mode.FOLLOW_UP)])
def test_two_clicks_in_one_visit_count_once_only_under_the_click_visits_patch(patched: bool, mode: Mode) -> None:
    """A lead started before the patch replays the old rule: every click counted."""
    lead, _ = machine("nurture", patched=patched)
    for n, offset in enumerate((0.0, 0.5)):
        click = {"event_id": f"c-{n}", "kind": "click", "content_id": "insight", "at": START + timedelta(seconds=offset)}
        lead.receive("engagement", (click,), EngagementEvent, lead.on_engagement)
    assert lead.s.mode == mode


def test_move_starts_a_fresh_pass_and_clears_the_click_counts() -> None:
    lead, _ = machine("nurture")
    lead.s.human_clicks = {"insight": 1}
    lead.on_move(MoveInput(to="follow_up"))
    assert (lead.s.mode, lead.m.step_index, lead.s.human_clicks) == (Mode.FOLLOW_UP, 0, {})
    assert lead.s.transitions[-1].reason == "moved to follow_up by staff"


def test_close_sets_the_outcome_and_later_events_are_recorded_only() -> None:
    lead, _ = machine()
    lead.on_close(CloseInput(outcome="won"))
    assert (lead.s.mode, lead.s.outcome) == (Mode.CLOSED, Outcome.WON)
    lead.receive("reply", ({"event_id": "r-3", "text": "thanks"},), ReplyEvent, lead.on_reply)
    assert lead.s.mode == Mode.CLOSED and lead.m.pending_tasks == []
    with pytest.raises(CommandRejected, match="closed as won"):
        lead.check_close(CloseInput(outcome="lost"))


def test_a_blocked_send_pauses_and_resume_retries_the_step_at_once() -> None:
    lead, clock = machine()
    lead.send_blocked("step day-1-case-study could not be sent: template broken. Fix it, then resume")
    assert lead.s.mode == Mode.PAUSED and lead.s.pause_reason.startswith("step day-1-case-study")
    lead.on_resume(ResumeInput())
    assert lead.m.due_at == clock.now


def test_the_follow_up_sequence_finishing_enters_nurture() -> None:
    lead, _ = machine()
    lead.finish_sequence()
    assert lead.s.mode == Mode.NURTURE
    assert lead.s.transitions[-1].reason == "follow-up finished with no reply"
    assert lead.m.due_at == datetime(2026, 4, 10, 15, 0, tzinfo=UTC)


def test_closing_a_lead_ends_its_open_rep_tasks_with_the_reason() -> None:
    lead, _ = machine()
    lead.receive("reply", ({"event_id": "r-9", "text": "call me"},), ReplyEvent, lead.on_reply)
    [task] = lead.s.open_tasks
    lead.on_close(CloseInput(outcome="meeting_booked"))
    assert lead.s.open_tasks == []
    assert [(t.task_id, t.done, t.result) for t in lead.s.done_tasks] == [
        (task.task_id, True, "lead closed (meeting_booked)")
    ]
