"""The fault run's checks find each kind of fault they count (so zeros mean something)."""

from collections import Counter
from datetime import UTC, datetime

from tests.faults.checks import FaultCounts, SentEmail, count_faults
from workflows.models import Channel, LeadState, Mode, TouchRecord, TransitionRecord

STEPS = ["day-1", "day-3"]
NOW = datetime(2026, 1, 5, tzinfo=UTC)


def touch(lead_id: str, seq: int, step: str) -> TouchRecord:
    key = f"{lead_id}:{seq:05d}:{step}"
    return TouchRecord(step=step, channel=Channel.EMAIL, sent_at=NOW, cadence="follow-up@v1", send_key=key)


def email(record: TouchRecord) -> SentEmail:
    return SentEmail(file=f"{record.send_key}.eml", send_key=record.send_key)


def replied_state(lead_id: str, moves: int = 1) -> LeadState:
    move = TransitionRecord(from_mode=Mode.FOLLOW_UP, to_mode=Mode.AWAITING_REP, reason="human reply", at=NOW)
    return LeadState(lead_id=lead_id, mode=Mode.AWAITING_REP, transitions=[move] * moves)


def counts(states: dict[str, LeadState], emails: list[SentEmail], tasks: Counter[str] | None = None) -> FaultCounts:
    replied = {lead for lead, state in states.items() if lead.startswith("r")}
    return count_faults(
        states=states,
        emails=emails,
        reply_tasks=tasks if tasks is not None else Counter(replied),
        replied=replied,
        follow_up_steps=STEPS,
    )


def clean() -> tuple[dict[str, LeadState], list[SentEmail]]:
    touches = [touch("a", 1, "day-1"), touch("a", 2, "day-3")]
    states = {"a": LeadState(lead_id="a", mode=Mode.NURTURE, touches=touches), "r": replied_state("r")}
    return states, [email(t) for t in touches]


def test_a_clean_run_counts_no_fault() -> None:
    states, emails = clean()

    result = counts(states, emails)

    assert (result.failures, result.emails, result.leads) == (0, 2, 2)


def test_a_recorded_touch_without_its_email_is_lost() -> None:
    states, emails = clean()

    assert counts(states, emails[:1]).lost_touches == 1


def test_a_lead_that_never_replied_must_have_every_follow_up_step() -> None:
    states, emails = clean()
    states["a"] = states["a"].model_copy(update={"touches": states["a"].touches[:1]})

    result = counts(states, emails[:1])

    assert result.lost_touches == 1


def test_the_same_step_sent_twice_under_two_keys_is_a_duplicate() -> None:
    states, emails = clean()

    result = counts(states, [*emails, email(touch("a", 3, "day-3"))])

    assert result.duplicate_touches == 1
    assert result.unrecorded_emails == 1


def test_a_replied_lead_outside_awaiting_rep_is_in_the_wrong_mode() -> None:
    states, emails = clean()
    states["r"] = LeadState(lead_id="r", mode=Mode.NURTURE)

    assert counts(states, emails).wrong_modes == 1


def test_a_reply_acted_on_twice_is_a_repeated_effect() -> None:
    states, emails = clean()
    states["r"] = replied_state("r", moves=2)

    assert counts(states, emails, Counter({"r": 2})).repeated_event_effects == 2
