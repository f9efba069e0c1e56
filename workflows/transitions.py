"""The lead's transition table: (mode, what happened) → (what to do, the new mode), as data.

Seed 000 in rows. Each row names the modes it applies in, the event, command or cadence
moment it answers (`On`), what the lead does (`Do`), where it goes, the closing outcome
and the rep task it queues. `decide` looks a row up and fills in its wording; the
`*_effect` functions first say which `On` an event is (a reply's intent, a click's
count). Pure: no Temporal, no I/O, no clock; `workflows/lead_machine.py` carries out
the `Effect` on the lead's state, and `LeadWorkflow` only waits and sends.

The README's "Every transition" table is `markdown_table()`; a test keeps them equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from workflows.models import (
    CADENCE_MODES,
    HOLDING_MODES,
    OPEN_MODES,
    DeliveryEvent,
    EngagementEvent,
    Mode,
    Outcome,
    ReplyIntent,
    TaskKind,
)

# Human clicks on the same nurture piece that show renewed interest (seed 000).
REPEATED_CLICKS = 2


class On(StrEnum):
    """What happened to the lead: an event, a staff command, or a moment of its cadence."""

    REPLY_UNSUBSCRIBE = "reply: unsubscribe"
    REPLY_NO = "reply: no"
    REPLY_AWAY_UNTIL = "reply: auto-reply with a return date"
    REPLY_AWAY = "reply: auto-reply without a date"
    REPLY_NOT_NOW_UNTIL = "reply: not now, with a date"
    REPLY_CHECK_IN_YES = "reply: interest, answering the check-in"
    REPLY_INTEREST = "reply: interest (positive or question)"
    REPLY_HUMAN = "reply: any other"
    UNSUBSCRIBE = "unsubscribe link"
    SMS_STOP = "text STOP"
    SMS_START = "text START"
    REPEATED_CLICKS = "2nd human click on one piece"
    SAME_VISIT_CLICK = "click in the same visit"
    ENGAGEMENT = "other open or click"
    COMPLAINT = "complaint"
    PERMANENT_BOUNCE = "permanent bounce"
    DELIVERY = "other delivery event"
    TRIGGER = "trigger"
    SNOOZE = "snooze"
    PAUSE = "pause"
    RESUME = "resume"
    MOVE_TO_FOLLOW_UP = "move to follow_up"
    MOVE_TO_NURTURE = "move to nurture"
    CLOSE = "close"
    DEAL_OUTCOME = "close a booked meeting's deal"
    ERASE = "erase"
    COMPLETE_TASK = "complete_task"
    SEQUENCE_DONE = "last follow-up step sent"
    SEQUENCE_DONE_STOP = "last step sent, cadence stops"
    CHECK_IN_SENT = "check-in sent"
    PAUSE_ENDED = "pause 'until' reached"
    BLOCKED = "cannot send (template, cadence, window)"
    SUPPRESSED = "address suppressed"


class Do(StrEnum):
    """What the lead's state does for a row (lead_machine.LeadMachine.apply)."""

    CLOSE = "close"  # final: the workflow completes with the outcome
    ENTER = "enter"  # a fresh pass of the follow-up or nurture cadence
    HOLD = "hold"  # automation stops; the mode and the wait left are kept to resume to
    SNOOZE = "snooze"  # wait until a date, then the check-in touch
    RESUME = "resume"  # back to the mode the hold kept, with the wait it had left
    RECORD = "record"  # the mode stays; logged (and a rep task, when the row has one)


@dataclass(frozen=True)
class Row:
    on: On
    modes: tuple[Mode, ...]
    do: Do
    to: Mode | None = None
    outcome: Outcome | None = None
    # str.format templates over the facts `decide` is given.
    reason: str = ""
    rep_task: str | None = None
    # What the rep task answers (RepTask.kind).
    task_kind: TaskKind = "reply"


_HUMAN_REPLY = "human reply: automation stopped, the rep owns the conversation"
_HUMAN_TASK = "Lead replied: read it and answer personally"
_NOT_IN = {mode: tuple(m for m in OPEN_MODES if m != mode) for mode in OPEN_MODES}

TABLE: tuple[Row, ...] = (
    # -- replies (the ingest consumer's intent and date; none: a person reads it)
    Row(
        On.REPLY_UNSUBSCRIBE, OPEN_MODES, Do.CLOSE, Mode.CLOSED, Outcome.UNSUBSCRIBED, "reply asked to unsubscribe{why}"
    ),
    Row(On.REPLY_NO, OPEN_MODES, Do.CLOSE, Mode.CLOSED, Outcome.LOST, "reply declined{why}"),
    Row(On.REPLY_AWAY_UNTIL, CADENCE_MODES, Do.HOLD, Mode.PAUSED, reason="auto-reply: away until {until}{why}"),
    Row(On.REPLY_AWAY_UNTIL, (Mode.SNOOZED, *HOLDING_MODES), Do.RECORD, reason="auto-reply ignored"),
    Row(On.REPLY_AWAY, OPEN_MODES, Do.RECORD, reason="auto-reply ignored"),
    Row(
        On.REPLY_NOT_NOW_UNTIL,
        OPEN_MODES,
        Do.SNOOZE,
        Mode.SNOOZED,
        reason="lead said not now: check back on {until}{why}",
    ),
    # Interest while not being followed up moves the lead to follow-up; a person answers first.
    *(
        Row(
            on,
            (Mode.NURTURE, Mode.SNOOZED),
            Do.ENTER,
            Mode.FOLLOW_UP,
            reason=f"lead {what}",
            rep_task=f"Lead {what}: answer personally today",
        )
        for on, what in (
            (On.REPLY_CHECK_IN_YES, "answered the check-in positively"),
            (On.REPLY_INTEREST, "replied with interest"),
        )
    ),
    *(
        row
        for on in (On.REPLY_CHECK_IN_YES, On.REPLY_INTEREST, On.REPLY_HUMAN)
        for row in (
            Row(
                on,
                (Mode.FOLLOW_UP, Mode.PAUSED) if on != On.REPLY_HUMAN else _NOT_IN[Mode.AWAITING_REP],
                Do.HOLD,
                Mode.AWAITING_REP,
                reason=_HUMAN_REPLY,
                rep_task=_HUMAN_TASK,
            ),
            Row(on, (Mode.AWAITING_REP,), Do.RECORD, reason=_HUMAN_REPLY, rep_task=_HUMAN_TASK),
        )
    ),
    # -- engagement
    Row(On.UNSUBSCRIBE, OPEN_MODES, Do.CLOSE, Mode.CLOSED, Outcome.UNSUBSCRIBED, "unsubscribed"),
    Row(On.SMS_STOP, OPEN_MODES, Do.RECORD, reason="texted STOP: no more SMS until START (email goes on)"),
    Row(On.SMS_START, OPEN_MODES, Do.RECORD, reason="texted START: SMS allowed again"),
    Row(
        On.REPEATED_CLICKS,
        (Mode.NURTURE,),
        Do.ENTER,
        Mode.FOLLOW_UP,
        reason="clicked '{piece}' {clicks} times",
        rep_task="Lead keeps reading '{piece}': reach out while it is warm",
        task_kind="click",
    ),
    Row(On.REPEATED_CLICKS, _NOT_IN[Mode.NURTURE], Do.RECORD, reason="click recorded"),
    Row(On.SAME_VISIT_CLICK, OPEN_MODES, Do.RECORD, reason="click on '{piece}' in the same visit: counted once"),
    Row(On.ENGAGEMENT, OPEN_MODES, Do.RECORD, reason="{kind} recorded"),
    # -- delivery
    Row(On.COMPLAINT, OPEN_MODES, Do.CLOSE, Mode.CLOSED, Outcome.COMPLAINED, "marked a message as spam"),
    Row(On.PERMANENT_BOUNCE, OPEN_MODES, Do.CLOSE, Mode.CLOSED, Outcome.BOUNCED, "address bounced permanently"),
    Row(On.DELIVERY, OPEN_MODES, Do.RECORD, reason="{kind} recorded"),
    # -- an external business event makes the need urgent: nurture and snooze end
    Row(
        On.TRIGGER,
        (Mode.NURTURE, Mode.SNOOZED),
        Do.ENTER,
        Mode.FOLLOW_UP,
        reason="trigger: {name}",
        rep_task="Trigger '{name}' fired: the lead moved to follow-up",
        task_kind="trigger",
    ),
    # A closed lead's workflow has completed; were a trigger to reach it, it changes nothing.
    Row(On.TRIGGER, (Mode.FOLLOW_UP, *HOLDING_MODES, Mode.CLOSED), Do.RECORD, reason="trigger {name} recorded"),
    # -- staff commands (updates; a validator refuses them in any other mode, and on a closed lead)
    Row(On.SNOOZE, OPEN_MODES, Do.SNOOZE, Mode.SNOOZED, reason="{reason}"),
    Row(On.PAUSE, _NOT_IN[Mode.PAUSED], Do.HOLD, Mode.PAUSED, reason="{reason}"),
    Row(On.RESUME, HOLDING_MODES, Do.RESUME, reason="{reason}"),
    Row(On.MOVE_TO_FOLLOW_UP, _NOT_IN[Mode.FOLLOW_UP], Do.ENTER, Mode.FOLLOW_UP, reason="{reason}"),
    Row(On.MOVE_TO_NURTURE, _NOT_IN[Mode.NURTURE], Do.ENTER, Mode.NURTURE, reason="{reason}"),
    Row(On.CLOSE, OPEN_MODES, Do.CLOSE, Mode.CLOSED, reason="{reason}"),
    # A booked meeting closes the cadence, not the deal: won, lost or disqualified may follow.
    Row(On.DEAL_OUTCOME, (Mode.CLOSED,), Do.CLOSE, Mode.CLOSED, reason="{reason}"),
    # A lead closed as meeting_booked still runs (waiting for its deal): it can be erased too.
    Row(On.ERASE, (*OPEN_MODES, Mode.CLOSED), Do.CLOSE, Mode.CLOSED, Outcome.ERASED, reason="{reason}"),
    Row(On.COMPLETE_TASK, OPEN_MODES, Do.RECORD, reason="task {task_id} done"),
    # -- the cadence itself
    Row(On.SEQUENCE_DONE, (Mode.FOLLOW_UP,), Do.ENTER, Mode.NURTURE, reason="{cadence} finished with no reply"),
    Row(On.SEQUENCE_DONE_STOP, (Mode.FOLLOW_UP,), Do.CLOSE, Mode.CLOSED, reason="{cadence} finished with no reply"),
    Row(On.CHECK_IN_SENT, (Mode.SNOOZED,), Do.ENTER, Mode.NURTURE, reason="snooze ended: check-in sent"),
    Row(On.PAUSE_ENDED, (Mode.PAUSED,), Do.RESUME, reason="pause ended"),
    Row(On.BLOCKED, OPEN_MODES, Do.HOLD, Mode.PAUSED, reason="{problem}"),
    Row(On.SUPPRESSED, OPEN_MODES, Do.CLOSE, Mode.CLOSED, reason="address suppressed ({detail})"),
)


@dataclass(frozen=True)
class Effect:
    """One row, filled in: what to do to the lead, and the words its history shows."""

    reason: str
    to: Mode | None = None
    outcome: Outcome | None = None
    rep_task: str | None = None
    # A pause or snooze that ends on this (lead-local) day.
    until: date | None = None
    do: Do = Do.RECORD
    task_kind: TaskKind = "reply"


def row_for(mode: Mode, on: On) -> Row | None:
    """The row that answers `on` in `mode`; None where nothing may happen (a command's
    validator refuses it there)."""
    return _INDEX.get((mode, on))


def decide(
    mode: Mode,
    on: On,
    *,
    outcome: Outcome | None = None,
    until: date | None = None,
    **facts: object,
) -> Effect:
    """The effect of `on` in `mode`. `facts` fill the row's wording; `outcome` is the one a
    close command or a suppression names, `until` the day a pause or snooze ends."""
    row = row_for(mode, on)
    if row is None:
        raise LookupError(f"no transition for {on.value!r} in {mode.value}")
    words = {"why": "", "until": until.isoformat() if until else "", **facts}
    return Effect(
        reason=row.reason.format(**words),
        to=row.to,
        outcome=outcome if outcome is not None else row.outcome,
        rep_task=row.rep_task.format(**words) if row.rep_task else None,
        until=until,
        do=row.do,
        task_kind=row.task_kind,
    )


# ------------------------------------------------------------- which row an event is


def reply_effect(
    mode: Mode,
    intent: ReplyIntent | None,
    *,
    after_check_in: bool,
    until: date | None = None,
    explanation: str = "",
) -> Effect:
    """A reply from the lead. `until` must already be checked to lie ahead (see
    cadence.reply_until_problem); without it an away or not-now reply is read as below."""
    why = f" ({explanation})" if explanation else ""
    if intent == "unsubscribe":
        return decide(mode, On.REPLY_UNSUBSCRIBE, why=why)
    if intent == "negative":
        return decide(mode, On.REPLY_NO, why=why)
    if intent == "auto_reply":
        if until is not None and mode in CADENCE_MODES:
            return decide(mode, On.REPLY_AWAY_UNTIL, until=until, why=why)
        return decide(mode, On.REPLY_AWAY)
    if intent == "not_now" and until is not None:
        return decide(mode, On.REPLY_NOT_NOW_UNTIL, until=until, why=why)
    if intent in ("positive", "question"):
        return decide(mode, On.REPLY_CHECK_IN_YES if after_check_in else On.REPLY_INTEREST)
    return decide(mode, On.REPLY_HUMAN)


def engagement_effect(mode: Mode, event: EngagementEvent, clicks_on_piece: int) -> Effect:
    """`clicks_on_piece` already counts this event when it is a human click."""
    if event.kind == "unsubscribe":
        return decide(mode, On.UNSUBSCRIBE)
    if event.kind == "sms_opt_out":
        return decide(mode, On.SMS_STOP)
    if event.kind == "sms_opt_in":
        return decide(mode, On.SMS_START)
    if event.kind == "click" and not event.automated and clicks_on_piece >= REPEATED_CLICKS:
        return decide(mode, On.REPEATED_CLICKS, piece=event.content_id, clicks=clicks_on_piece)
    return decide(mode, On.ENGAGEMENT, kind=event.kind)


def delivery_effect(event: DeliveryEvent, mode: Mode = Mode.FOLLOW_UP) -> Effect:
    """A delivery event acts the same in every open mode."""
    if event.kind == "complaint":
        return decide(mode, On.COMPLAINT)
    if event.kind == "bounce" and event.permanent:
        return decide(mode, On.PERMANENT_BOUNCE)
    what = {"bounce": "transient bounce", "rendering_failure": "rendering failure"}.get(event.kind, event.kind)
    return decide(mode, On.DELIVERY, kind=what)


def trigger_effect(mode: Mode, name: str) -> Effect:
    return decide(mode, On.TRIGGER, name=name)


SUPPRESSION_OUTCOMES = {
    "BOUNCE": Outcome.BOUNCED,
    "COMPLAINT": Outcome.COMPLAINED,
    "UNSUBSCRIBE": Outcome.UNSUBSCRIBED,
}


def suppression_outcome(status: str, detail: str) -> Outcome | None:
    """A send skipped because the address is on a suppression list ends the lead for good:
    'suppressed: BOUNCE …' closes it as bounced, COMPLAINT as complained, UNSUBSCRIBE as
    unsubscribed."""
    if status != "skipped" or not detail.startswith("suppressed: "):
        return None
    reason = detail.split()[1] if len(detail.split()) > 1 else ""
    return SUPPRESSION_OUTCOMES.get(reason.upper().rstrip(",;:"), Outcome.UNSUBSCRIBED)


# ------------------------------------------------------------------------ README


def markdown_table() -> str:
    """Every row as the README shows it (`tests/workflows/test_transitions.py` keeps them equal)."""
    lines = ["| In | On | Does | To | Outcome | Rep task |", "|---|---|---|---|---|---|"]
    for row in TABLE:
        modes = "any open mode" if row.modes == OPEN_MODES else ", ".join(f"`{m.value}`" for m in row.modes)
        to = "the mode it left" if row.do == Do.RESUME else (f"`{row.to.value}`" if row.to else "stays")
        outcome = f"`{row.outcome.value}`" if row.outcome else ("as named" if row.on == On.CLOSE else "")
        if row.on == On.SUPPRESSED:
            outcome = "`bounced`, `complained` or `unsubscribed`"
        if row.on == On.DEAL_OUTCOME:
            outcome = "`won`, `lost` or `disqualified`, after `meeting_booked`"
        task = f"“{row.rep_task}”" if row.rep_task else ""
        lines.append(f"| {modes} | {row.on.value} | {row.do.value} | {to} | {outcome} | {task} |")
    return "\n".join(lines)


def _index(table: tuple[Row, ...]) -> dict[tuple[Mode, On], Row]:
    index: dict[tuple[Mode, On], Row] = {}
    for row in table:
        for mode in row.modes:
            if (mode, row.on) in index:
                raise ValueError(f"two rows for {row.on.value!r} in {mode.value}")
            index[(mode, row.on)] = row
    return index


_INDEX = _index(TABLE)
