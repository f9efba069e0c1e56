"""The transition table (workflows/transitions.py): every row, and how events pick one.

Pure: no Temporal, no clock, no I/O.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from workflows import cadence as rules
from workflows import transitions
from workflows.models import CADENCE_MODES, OPEN_MODES, DeliveryEvent, EngagementEvent, Mode, Outcome
from workflows.transitions import TABLE, Do, On

README = Path(__file__).parents[2] / "README.md"
NOW = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)


# ------------------------------------------------------------------ reply_effect


@pytest.mark.parametrize("mode", OPEN_MODES)
@pytest.mark.parametrize("after_check_in", [False, True])
def test_reply_asking_to_unsubscribe_closes_the_lead(mode: Mode, after_check_in: bool) -> None:
    effect = transitions.reply_effect(mode, "unsubscribe", after_check_in=after_check_in)
    assert (effect.to, effect.outcome, effect.rep_task) == (Mode.CLOSED, Outcome.UNSUBSCRIBED, None)
    assert effect.reason == "reply asked to unsubscribe"


@pytest.mark.parametrize("mode", OPEN_MODES)
def test_negative_reply_closes_the_lead_as_lost(mode: Mode) -> None:
    effect = transitions.reply_effect(mode, "negative", after_check_in=False)
    assert (effect.to, effect.outcome, effect.rep_task) == (Mode.CLOSED, Outcome.LOST, None)
    assert effect.reason == "reply declined"


@pytest.mark.parametrize("mode", OPEN_MODES)
def test_auto_reply_changes_nothing(mode: Mode) -> None:
    effect = transitions.reply_effect(mode, "auto_reply", after_check_in=True)
    assert (effect.to, effect.outcome, effect.rep_task) == (None, None, None)
    assert effect.reason == "auto-reply ignored"


@pytest.mark.parametrize("mode", [Mode.NURTURE, Mode.SNOOZED])
@pytest.mark.parametrize("intent", ["positive", "question"])
def test_interest_during_nurture_or_snooze_moves_to_follow_up_with_a_rep_task(mode: Mode, intent: str) -> None:
    effect = transitions.reply_effect(mode, intent, after_check_in=False)  # type: ignore[arg-type]
    assert effect.to == Mode.FOLLOW_UP
    assert effect.outcome is None
    assert effect.reason == "lead replied with interest"
    assert effect.rep_task == "Lead replied with interest: answer personally today"


@pytest.mark.parametrize("mode", [Mode.NURTURE, Mode.SNOOZED])
def test_positive_answer_to_the_check_in_moves_to_follow_up_with_check_in_wording(mode: Mode) -> None:
    effect = transitions.reply_effect(mode, "positive", after_check_in=True)
    assert effect.to == Mode.FOLLOW_UP
    assert effect.reason == "lead answered the check-in positively"
    assert effect.rep_task == "Lead answered the check-in positively: answer personally today"


@pytest.mark.parametrize("mode", [Mode.FOLLOW_UP, Mode.NURTURE, Mode.SNOOZED, Mode.PAUSED])
@pytest.mark.parametrize("after_check_in", [False, True])
def test_unclassified_reply_hands_the_lead_to_the_rep(mode: Mode, after_check_in: bool) -> None:
    effect = transitions.reply_effect(mode, None, after_check_in=after_check_in)
    assert effect.to == Mode.AWAITING_REP
    assert effect.outcome is None
    assert effect.rep_task == "Lead replied: read it and answer personally"
    assert "the rep owns the conversation" in effect.reason


@pytest.mark.parametrize("intent", ["positive", "question", "not_now"])
def test_human_reply_during_follow_up_stops_automation(intent: str) -> None:
    effect = transitions.reply_effect(Mode.FOLLOW_UP, intent, after_check_in=False)  # type: ignore[arg-type]
    assert effect.to == Mode.AWAITING_REP
    assert effect.rep_task == "Lead replied: read it and answer personally"


@pytest.mark.parametrize("intent", [None, "positive", "question", "not_now"])
def test_reply_while_awaiting_rep_creates_a_task_but_no_transition(intent: str | None) -> None:
    effect = transitions.reply_effect(Mode.AWAITING_REP, intent, after_check_in=False)  # type: ignore[arg-type]
    assert effect.to is None
    assert effect.outcome is None
    assert effect.rep_task == "Lead replied: read it and answer personally"


# ------------------------------------------------------------------ engagement_effect


def _engagement(kind: str = "click", *, automated: bool = False, content: str = "case-study-similar-start") -> EngagementEvent:
    return EngagementEvent.model_validate(
        {"event_id": "e-1", "kind": kind, "content_id": content, "automated": automated}
    )


@pytest.mark.parametrize("mode", OPEN_MODES)
def test_unsubscribe_link_closes_the_lead(mode: Mode) -> None:
    effect = transitions.engagement_effect(mode, _engagement("unsubscribe"), 0)
    assert (effect.to, effect.outcome) == (Mode.CLOSED, Outcome.UNSUBSCRIBED)


@pytest.mark.parametrize("clicks", [2, 3, 10])
def test_repeated_human_clicks_during_nurture_move_to_follow_up(clicks: int) -> None:
    effect = transitions.engagement_effect(Mode.NURTURE, _engagement(), clicks)
    assert effect.to == Mode.FOLLOW_UP
    assert effect.outcome is None
    assert effect.reason == f"clicked 'case-study-similar-start' {clicks} times"
    assert effect.rep_task is not None
    assert "case-study-similar-start" in effect.rep_task
    assert "reach out while it is warm" in effect.rep_task


@pytest.mark.parametrize("clicks", [0, 1])
def test_a_single_human_click_during_nurture_is_only_recorded(clicks: int) -> None:
    effect = transitions.engagement_effect(Mode.NURTURE, _engagement(), clicks)
    assert (effect.to, effect.rep_task) == (None, None)
    assert effect.reason == "click recorded"


@pytest.mark.parametrize("clicks", [2, 5, 100])
def test_automated_clicks_never_move_the_lead(clicks: int) -> None:
    effect = transitions.engagement_effect(Mode.NURTURE, _engagement(automated=True), clicks)
    assert (effect.to, effect.outcome, effect.rep_task) == (None, None, None)
    assert effect.reason == "click recorded"


@pytest.mark.parametrize("mode", [Mode.FOLLOW_UP, Mode.PAUSED, Mode.AWAITING_REP])
def test_clicks_outside_nurture_never_move_the_lead(mode: Mode) -> None:
    effect = transitions.engagement_effect(mode, _engagement(), 5)
    assert (effect.to, effect.rep_task) == (None, None)
    assert effect.reason == "click recorded"


def test_opens_are_only_recorded() -> None:
    effect = transitions.engagement_effect(Mode.NURTURE, _engagement("open"), 3)
    assert (effect.to, effect.rep_task) == (None, None)
    assert effect.reason == "open recorded"


# ------------------------------------------------------------------ delivery_effect


@pytest.mark.parametrize(
    ("payload", "to", "outcome", "reason"),
    [
        ({"kind": "bounce", "permanent": True}, Mode.CLOSED, Outcome.BOUNCED, "address bounced permanently"),
        ({"kind": "bounce", "permanent": False}, None, None, "transient bounce recorded"),
        ({"kind": "complaint"}, Mode.CLOSED, Outcome.COMPLAINED, "marked a message as spam"),
        ({"kind": "complaint", "permanent": True}, Mode.CLOSED, Outcome.COMPLAINED, "marked a message as spam"),
        ({"kind": "delivered"}, None, None, "delivered recorded"),
    ],
)
def test_delivery_effect(payload: dict[str, object], to: Mode | None, outcome: Outcome | None, reason: str) -> None:
    effect = transitions.delivery_effect(DeliveryEvent.model_validate({"event_id": "d-1", **payload}))
    assert (effect.to, effect.outcome, effect.reason, effect.rep_task) == (to, outcome, reason, None)


# ------------------------------------------------------------------ trigger_effect


@pytest.mark.parametrize("mode", [Mode.NURTURE, Mode.SNOOZED])
def test_trigger_moves_nurture_and_snoozed_leads_to_follow_up(mode: Mode) -> None:
    effect = transitions.trigger_effect(mode, "funding_round")
    assert effect.to == Mode.FOLLOW_UP
    assert effect.reason == "trigger: funding_round"
    assert effect.rep_task == "Trigger 'funding_round' fired: the lead moved to follow-up"


@pytest.mark.parametrize("mode", [Mode.FOLLOW_UP, Mode.PAUSED, Mode.AWAITING_REP, Mode.CLOSED])
def test_trigger_in_other_modes_is_only_recorded(mode: Mode) -> None:
    effect = transitions.trigger_effect(mode, "funding_round")
    assert (effect.to, effect.outcome, effect.rep_task) == (None, None, None)
    assert effect.reason == "trigger funding_round recorded"


# ------------------------------------------------------------ classified replies


def test_an_out_of_office_with_a_date_pauses_a_running_cadence_only():
    back = date(2026, 12, 14)
    effect = transitions.reply_effect(Mode.FOLLOW_UP, "auto_reply", after_check_in=False, until=back)
    assert (effect.to, effect.until, effect.rep_task) == (Mode.PAUSED, back, None)
    for held in (Mode.AWAITING_REP, Mode.PAUSED, Mode.SNOOZED):
        assert transitions.reply_effect(held, "auto_reply", after_check_in=False, until=back).to is None


def test_not_now_snoozes_only_with_a_date():
    day = date(2027, 2, 23)
    effect = transitions.reply_effect(Mode.NURTURE, "not_now", after_check_in=False, until=day, explanation="'in 3 months'")
    assert (effect.to, effect.until) == (Mode.SNOOZED, day)
    assert "'in 3 months'" in effect.reason
    without = transitions.reply_effect(Mode.FOLLOW_UP, "not_now", after_check_in=False)
    assert without.to == Mode.AWAITING_REP and without.rep_task


def test_new_delivery_kinds_are_recorded_without_a_move():
    for kind in ("delayed", "rejected", "rendering_failure"):
        effect = transitions.delivery_effect(DeliveryEvent(event_id="e", kind=kind))
        assert effect.to is None and effect.outcome is None




# ------------------------------------------------------------------ every row

# Words every row's templates may use, as the lead machine fills them in.
FACTS = {
    "why": "",
    "kind": "open",
    "piece": "case-study",
    "clicks": 2,
    "name": "funding_round",
    "reason": "staff said so",
    "task_id": "crm-1:task-1",
    "cadence": "follow-up",
    "problem": "template broken",
    "detail": "suppressed: BOUNCE",
}
CELLS = [(row, mode) for row in TABLE for mode in row.modes]


@pytest.mark.parametrize(("row", "mode"), CELLS, ids=[f"{r.on.name}-{m.value}" for r, m in CELLS])
def test_every_row_decides_what_it_declares(row: transitions.Row, mode: Mode) -> None:
    until = date(2027, 1, 4) if row.do in (Do.HOLD, Do.SNOOZE) and "{until}" in row.reason else None
    effect = transitions.decide(mode, row.on, until=until, **FACTS)
    assert (effect.do, effect.to, effect.outcome) == (row.do, row.to, row.outcome)
    assert effect.until == until
    assert "{" not in effect.reason and effect.reason
    assert (effect.rep_task is None) == (row.rep_task is None)
    if until is not None:
        assert until.isoformat() in effect.reason


def test_the_targets_of_each_kind_of_row_make_sense() -> None:
    for row in TABLE:
        if row.do == Do.CLOSE:
            assert row.to == Mode.CLOSED
        elif row.do == Do.ENTER:
            assert row.to in CADENCE_MODES
        elif row.do == Do.HOLD:
            assert row.to in (Mode.PAUSED, Mode.AWAITING_REP)
        elif row.do == Do.SNOOZE:
            assert row.to == Mode.SNOOZED
        else:
            assert row.to is None, row  # resume goes back to the kept mode; record stays


def test_no_two_rows_answer_the_same_thing_in_the_same_mode() -> None:
    seen = [(mode, row.on) for row in TABLE for mode in row.modes]
    assert len(seen) == len(set(seen))


@pytest.mark.parametrize("on", [On.REPLY_UNSUBSCRIBE, On.REPLY_NO, On.REPLY_AWAY, On.REPLY_NOT_NOW_UNTIL,
                                On.REPLY_CHECK_IN_YES, On.REPLY_INTEREST, On.REPLY_HUMAN, On.UNSUBSCRIBE,
                                On.SMS_STOP, On.SMS_START, On.REPEATED_CLICKS, On.SAME_VISIT_CLICK,
                                On.ENGAGEMENT, On.COMPLAINT, On.PERMANENT_BOUNCE, On.DELIVERY, On.TRIGGER])
@pytest.mark.parametrize("mode", OPEN_MODES)
def test_every_event_has_a_row_in_every_open_mode(on: On, mode: Mode) -> None:
    """An event is never dropped for want of a row: each open mode answers it."""
    assert transitions.row_for(mode, on) is not None


def test_a_closed_lead_has_rows_only_for_a_trigger_its_deals_outcome_and_erasure() -> None:
    assert {row.on for row in TABLE if Mode.CLOSED in row.modes} == {On.TRIGGER, On.DEAL_OUTCOME, On.ERASE}


def test_a_missing_row_is_an_error_not_a_silent_no_op() -> None:
    with pytest.raises(LookupError, match="resume"):
        transitions.decide(Mode.FOLLOW_UP, On.RESUME, reason="x")


# ---------------------------------------------- commands: the rows and the validators agree


def _refused(on: On, mode: Mode) -> str | None:
    closed = rules.closed_problem(mode, None)
    if closed:
        return closed
    if on == On.PAUSE:
        return rules.pause_problem(mode, None, NOW)
    if on == On.RESUME:
        return rules.resume_problem(mode)
    if on == On.MOVE_TO_FOLLOW_UP:
        return rules.move_problem(mode, "follow_up")
    if on == On.MOVE_TO_NURTURE:
        return rules.move_problem(mode, "nurture")
    return None


COMMANDS = [On.SNOOZE, On.PAUSE, On.RESUME, On.MOVE_TO_FOLLOW_UP, On.MOVE_TO_NURTURE, On.CLOSE, On.COMPLETE_TASK]


@pytest.mark.parametrize("on", COMMANDS)
@pytest.mark.parametrize("mode", list(Mode))
def test_a_command_has_a_row_exactly_where_its_validator_accepts_it(on: On, mode: Mode) -> None:
    assert (transitions.row_for(mode, on) is not None) == (_refused(on, mode) is None)


# ------------------------------------------------------------------ suppression


@pytest.mark.parametrize(
    ("detail", "outcome"),
    [
        ("suppressed: BOUNCE on 2026-11-02", Outcome.BOUNCED),
        ("suppressed: COMPLAINT", Outcome.COMPLAINED),
        ("suppressed: UNSUBSCRIBE, by link", Outcome.UNSUBSCRIBED),
        ("suppressed: something new", Outcome.UNSUBSCRIBED),
    ],
)
def test_a_suppressed_send_names_the_outcome(detail: str, outcome: Outcome) -> None:
    assert transitions.suppression_outcome("skipped", detail) == outcome
    effect = transitions.decide(Mode.NURTURE, On.SUPPRESSED, outcome=outcome, detail=detail)
    assert (effect.to, effect.outcome, effect.reason) == (Mode.CLOSED, outcome, f"address suppressed ({detail})")


@pytest.mark.parametrize(("status", "detail"), [("sent", ""), ("skipped", "no SMS consent"), ("rejected", "x")])
def test_other_results_are_not_a_suppression(status: str, detail: str) -> None:
    assert transitions.suppression_outcome(status, detail) is None


# ------------------------------------------------------------------ README


def test_the_readme_shows_the_table_as_it_is() -> None:
    """The README's "Every transition" table is generated from TABLE: edit the rows, then
    paste `python -c "import workflows.transitions as t; print(t.markdown_table())"`."""
    readme = README.read_text(encoding="utf-8")
    start, end = "<!-- transitions:start -->\n", "\n<!-- transitions:end -->"
    assert start in readme and end in readme, "README lost its transition table markers"
    shown = readme.split(start, 1)[1].split(end, 1)[0]
    assert shown == transitions.markdown_table()
