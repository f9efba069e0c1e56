"""Pure cadence rules: what is due next, when a snooze or pause ends, which command is refused.

Plain functions over plain values: no Temporal, no I/O, no clock. The workflow passes
`now` in, so every rule here is unit-tested directly and deterministic on replay.
"""

from __future__ import annotations

import calendar
import zoneinfo
from datetime import date, datetime, time, timedelta

from workflows.models import CadenceDefinition, CadenceStep, Mode, Outcome, SnoozeInput

# Clicks on one piece this close together (provider timestamps) count once.
CLICK_VISIT_SECONDS = 2.0
# A snooze `until` a date ends at this local time, so the check-in lands in the morning.
SNOOZE_END_LOCAL_TIME = time(9, 0)


def add_months(moment: datetime, months: int) -> datetime:
    """The same day `months` later, clamped to the month's last day (Jan 31 + 1 = Feb 28)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def scaled(delta: timedelta, speedup: float) -> timedelta:
    """A cadence interval on the lead's clock, as a real wait (speedup divides every wait)."""
    return delta / speedup


# ------------------------------------------------------------------ scheduling


def sequence_gap(cadence: CadenceDefinition, index: int) -> timedelta:
    """Time between the previous step (or day 0) and step `index` of a sequence."""
    current = cadence.steps[index].day or 0
    previous = (cadence.steps[index - 1].day or 0) if index > 0 else 0
    return timedelta(days=current - previous)


def rotation_gap(cadence: CadenceDefinition, after: datetime) -> timedelta:
    """Calendar months between one rotation touch and the next, from `after`."""
    months = cadence.every_months or 1
    return add_months(after, months) - after


def rotation_step(cadence: CadenceDefinition, rotation: int) -> CadenceStep:
    return cadence.steps[rotation % len(cadence.steps)]


def step_label(cadence: CadenceDefinition, step: CadenceStep, rotation: int | None = None) -> str:
    """The timer label ops read in the Web UI, e.g. 'day 3: challenge from discovery'."""
    if step.day is not None:
        return f"day {step.day}: {step.purpose}"
    if rotation is not None:
        months = (rotation + 1) * (cadence.every_months or 1)
        return f"month {months}: {step.purpose}"
    return step.purpose


def cadence_slot_problem(follow_up: CadenceDefinition, nurture: CadenceDefinition) -> str | None:
    """A rotation run as follow-up would send every step at once: refuse mismatches."""
    if follow_up.every_months is not None or follow_up.mode != "follow_up":
        return (
            f"cadence '{follow_up.id}' is a {follow_up.mode} cadence and cannot be the follow-up "
            "cadence; enroll with a follow-up sequence such as 'follow-up'"
        )
    if nurture.every_months is None or nurture.mode != "nurture":
        return (
            f"cadence '{nurture.id}' is not a monthly rotation and cannot be the nurture cadence; "
            "enroll with a nurture cadence such as 'nurture'"
        )
    return None


# ---------------------------------------------------------------------- snooze


def snooze_end(command: SnoozeInput, now: datetime, timezone: str | None) -> datetime:
    """When a snooze ends on the lead's clock: N months/weeks/days from now, or the
    morning of the `until` date in the lead's time zone (UTC when unknown)."""
    # Anything past a century is as refusable as 3 years, and would overflow datetime.
    if command.months is not None:
        return add_months(now, min(command.months, 1200))
    if command.weeks is not None:
        return now + timedelta(weeks=min(command.weeks, 5200))
    if command.days is not None:
        return now + timedelta(days=min(command.days, 36500))
    assert command.until is not None
    return datetime.combine(command.until, SNOOZE_END_LOCAL_TIME, tzinfo=_zone(timezone))


def _zone(timezone: str | None) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(timezone or "UTC")


def snooze_problem(end: datetime, now: datetime) -> str | None:
    """Why a snooze ending at `end` is refused, or None when it is acceptable."""
    if end <= now:
        return f"snooze must end in the future; {end.date().isoformat()} is not after today"
    # Two calendar years, by date: 'until' the same date two years on is a local morning
    # that may fall hours after `now` in UTC, and must still be accepted.
    if end.date() > add_months(now, 24).date():
        return f"snooze of {(end - now).days} days is longer than 2 years; close the lead or pick a nearer date"
    return None


def pause_end(until: date | datetime | None, timezone: str | None) -> datetime | None:
    """A date ends the pause that morning, a time without offset is the lead's local time."""
    if until is None:
        return None
    if isinstance(until, datetime):
        return until if until.tzinfo else until.replace(tzinfo=_zone(timezone))
    return datetime.combine(until, SNOOZE_END_LOCAL_TIME, tzinfo=_zone(timezone))


# ---------------------------------------------------------------------- events


def is_same_visit(previous: datetime | None, at: datetime) -> bool:
    """A click on a piece within CLICK_VISIT_SECONDS of the last counted one is the same
    visit: a scanner opening every link in one burst, or a double click."""
    return previous is not None and abs((at - previous).total_seconds()) < CLICK_VISIT_SECONDS


def reply_until_problem(end: datetime, now: datetime) -> str | None:
    """Why a classifier's date cannot end a pause or snooze (then a rep reads the reply)."""
    if end <= now:
        return f"{end.date().isoformat()} is not in the future"
    if end.date() > add_months(now, 24).date():
        return f"{end.date().isoformat()} is more than 2 years away"
    return None


# ---------------------------------------------------------------- validations


def closed_problem(mode: Mode, outcome: Outcome | None) -> str | None:
    if mode == Mode.CLOSED:
        detail = f" as {outcome.value}" if outcome else ""
        return f"the lead is closed{detail}; no command applies to a closed lead"
    return None


# What a booked meeting's deal may still become.
DEAL_OUTCOMES = (Outcome.WON, Outcome.LOST, Outcome.DISQUALIFIED)


def deal_outcome_problem(outcome: Outcome) -> str | None:
    if outcome not in DEAL_OUTCOMES:
        allowed = ", ".join(o.value for o in DEAL_OUTCOMES)
        return f"the lead is closed as meeting_booked; only the deal's outcome may follow: {allowed}"
    return None


def move_problem(mode: Mode, to: str) -> str | None:
    if mode == to:
        return f"the lead is already in {to}"
    return None


def resume_problem(mode: Mode) -> str | None:
    if mode not in (Mode.PAUSED, Mode.AWAITING_REP):
        return f"nothing to resume: the lead is in {mode.value}, not paused or awaiting a rep"
    return None


def pause_problem(mode: Mode, end: datetime | None, now: datetime) -> str | None:
    if mode == Mode.PAUSED:
        return "the lead is already paused; resume it first or change nothing"
    if end is not None and end <= now:
        return f"pause 'until' {end.isoformat()} is in the past"
    return None
