"""Pure cadence rules (workflows/cadence.py): no Temporal, no clock, no I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from workflows import cadence as rules
from workflows.models import CadenceDefinition, Mode, Outcome, SnoozeInput

CHICAGO = "America/Chicago"
NOW = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)

OPEN_MODES = [m for m in Mode if m != Mode.CLOSED]


def _follow_up(first_day: int | None = None) -> CadenceDefinition:
    days = [1, 3, 5, 7, 10]
    purposes = [
        "value-add case study",
        "challenge from discovery",
        "social proof from a similar client",
        "direct ask: yes or not yet?",
        "final note before nurture",
    ]
    steps = [
        {"key": f"day-{d}", "day": d, "channel": "email", "template": f"follow-up/day-{d}", "purpose": p}
        for d, p in zip(days, purposes, strict=True)
    ]
    if first_day is not None:
        steps.insert(
            0,
            {"key": "day-0", "day": first_day, "channel": "call_task", "template": "follow-up/call", "purpose": "call"},
        )
    return CadenceDefinition.model_validate(
        {"id": "follow-up", "version": 1, "mode": "follow_up", "title": "Deal follow-up", "steps": steps}
    )


NURTURE_KEYS = [
    "industry-insight",
    "similar-start-case-study",
    "whats-changed",
    "direct-check-in",
    "new-resource",
    "gentle-offer",
]
NURTURE_PURPOSES = [
    "industry insight",
    "case study from a similar start",
    "what's changed in their space",
    "direct check-in",
    "new resource for their challenge",
    "low-pressure offer",
]


def _nurture(every_months: int = 1) -> CadenceDefinition:
    return CadenceDefinition.model_validate(
        {
            "id": "nurture",
            "version": 1,
            "mode": "nurture",
            "title": "Monthly nurture",
            "every_months": every_months,
            "check_in": {
                "key": "snooze-check-in",
                "channel": "email",
                "template": "nurture/snooze-check-in",
                "purpose": "check-in after the snooze",
            },
            "steps": [
                {"key": k, "channel": "email", "template": f"nurture/{k}", "purpose": p}
                for k, p in zip(NURTURE_KEYS, NURTURE_PURPOSES, strict=True)
            ],
        }
    )


# ------------------------------------------------------------------ add_months / scaled


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (datetime(2027, 1, 31, 9, 0), 1, datetime(2027, 2, 28, 9, 0)),  # clamped, common year
        (datetime(2028, 1, 31, 9, 0), 1, datetime(2028, 2, 29, 9, 0)),  # clamped, leap year
        (datetime(2027, 3, 31), 1, datetime(2027, 4, 30)),
        (datetime(2026, 12, 15), 1, datetime(2027, 1, 15)),  # December rolls into next year
        (datetime(2026, 12, 31), 2, datetime(2027, 2, 28)),
        (datetime(2026, 12, 15), 13, datetime(2028, 1, 15)),
        (datetime(2026, 5, 20), 12, datetime(2027, 5, 20)),  # a full year
        (datetime(2028, 2, 29), 12, datetime(2029, 2, 28)),  # leap day a year on
        (datetime(2027, 3, 31), -1, datetime(2027, 2, 28)),
    ],
)
def test_add_months_is_same_day_later_clamped_to_month_end(start: datetime, months: int, expected: datetime) -> None:
    assert rules.add_months(start, months) == expected


def test_add_months_keeps_time_of_day_and_zone() -> None:
    result = rules.add_months(datetime(2026, 1, 31, 14, 45, 10, tzinfo=UTC), 1)
    assert result == datetime(2026, 2, 28, 14, 45, 10, tzinfo=UTC)
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    ("delta", "speedup", "expected"),
    [
        (timedelta(days=3), 1, timedelta(days=3)),  # real time
        (timedelta(days=1), 86_400, timedelta(seconds=1)),  # a day a second
        (timedelta(days=1), 1_440, timedelta(minutes=1)),
        (timedelta(hours=5), 2.5, timedelta(hours=2)),
    ],
)
def test_scaled_divides_every_wait_by_the_speedup(delta: timedelta, speedup: float, expected: timedelta) -> None:
    assert rules.scaled(delta, speedup) == expected


# ------------------------------------------------------------------ scheduling


def test_sequence_gaps_follow_days_1_3_5_7_10() -> None:
    cadence = _follow_up()
    gaps = [rules.sequence_gap(cadence, i) for i in range(len(cadence.steps))]
    assert gaps == [timedelta(days=d) for d in (1, 2, 2, 2, 3)]


def test_a_day_0_step_is_sent_at_once_and_the_next_gap_counts_from_it() -> None:
    cadence = _follow_up(first_day=0)
    gaps = [rules.sequence_gap(cadence, i) for i in range(len(cadence.steps))]
    assert gaps == [timedelta(0)] + [timedelta(days=d) for d in (1, 2, 2, 2, 3)]


@pytest.mark.parametrize(
    ("every_months", "after", "expected_days"),
    [
        (1, datetime(2027, 1, 15, 9, tzinfo=UTC), 31),
        (1, datetime(2027, 1, 31, 9, tzinfo=UTC), 28),  # lands on Feb 28, not in March
        (1, datetime(2027, 2, 15, 9, tzinfo=UTC), 28),
        (3, datetime(2027, 1, 15, 9, tzinfo=UTC), 90),  # Jan 15 -> Apr 15
        (12, datetime(2027, 6, 1, 9, tzinfo=UTC), 366),  # spans Feb 29 2028
    ],
)
def test_rotation_gap_is_calendar_months(every_months: int, after: datetime, expected_days: int) -> None:
    gap = rules.rotation_gap(_nurture(every_months), after)
    assert gap == timedelta(days=expected_days)
    assert after + gap == rules.add_months(after, every_months)


@pytest.mark.parametrize(
    ("rotation", "expected_key"),
    [
        (0, "industry-insight"),
        (3, "direct-check-in"),
        (5, "gentle-offer"),
        (6, "industry-insight"),  # wraps around: nurture runs indefinitely
        (9, "direct-check-in"),
        (6 * 50 + 1, "similar-start-case-study"),
    ],
)
def test_rotation_step_wraps_around(rotation: int, expected_key: str) -> None:
    assert rules.rotation_step(_nurture(), rotation).key == expected_key


def test_step_label_of_a_sequence_step_names_its_day() -> None:
    cadence = _follow_up()
    assert rules.step_label(cadence, cadence.steps[1]) == "day 3: challenge from discovery"
    assert rules.step_label(cadence, cadence.steps[4]) == "day 10: final note before nurture"


def test_step_label_of_a_day_0_step_says_day_0() -> None:
    cadence = _follow_up(first_day=0)
    assert rules.step_label(cadence, cadence.steps[0]) == "day 0: call"


def test_step_label_of_a_rotation_step_names_its_month() -> None:
    cadence = _nurture()
    assert rules.step_label(cadence, rules.rotation_step(cadence, 3), 3) == "month 4: direct check-in"
    assert rules.step_label(cadence, rules.rotation_step(cadence, 0), 0) == "month 1: industry insight"
    # The month keeps counting after the rotation wraps.
    assert rules.step_label(cadence, rules.rotation_step(cadence, 6), 6) == "month 7: industry insight"


def test_step_label_counts_months_by_the_rotation_interval() -> None:
    cadence = _nurture(every_months=3)
    assert rules.step_label(cadence, rules.rotation_step(cadence, 1), 1) == "month 6: case study from a similar start"


def test_step_label_without_day_or_rotation_is_the_purpose() -> None:
    cadence = _nurture()
    assert cadence.check_in is not None
    assert rules.step_label(cadence, cadence.check_in) == "check-in after the snooze"


# ------------------------------------------------------------------ snooze


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (SnoozeInput(months=3), datetime(2026, 6, 10, 15, 30, tzinfo=UTC)),
        (SnoozeInput(months=12), datetime(2027, 3, 10, 15, 30, tzinfo=UTC)),
        (SnoozeInput(weeks=6), datetime(2026, 4, 21, 15, 30, tzinfo=UTC)),
        (SnoozeInput(days=10), datetime(2026, 3, 20, 15, 30, tzinfo=UTC)),
    ],
)
def test_snooze_end_for_a_duration_counts_from_now(command: SnoozeInput, expected: datetime) -> None:
    # The lead's zone does not matter for a duration.
    assert rules.snooze_end(command, NOW, CHICAGO) == expected
    assert rules.snooze_end(command, NOW, None) == expected


def test_snooze_of_one_month_from_jan_31_ends_feb_28() -> None:
    now = datetime(2027, 1, 31, 12, tzinfo=UTC)
    assert rules.snooze_end(SnoozeInput(months=1), now, None) == datetime(2027, 2, 28, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("until", "utc_offset_hours", "utc_hour"),
    [
        (date(2027, 1, 15), -6, 15),  # winter: CST
        (date(2027, 7, 15), -5, 14),  # summer: CDT
    ],
)
def test_snooze_until_a_date_ends_at_9_in_the_leads_zone(until: date, utc_offset_hours: int, utc_hour: int) -> None:
    end = rules.snooze_end(SnoozeInput(until=until), NOW, CHICAGO)
    assert (end.date(), end.hour, end.minute) == (until, 9, 0)
    assert end.utcoffset() == timedelta(hours=utc_offset_hours)
    assert end.astimezone(UTC) == datetime(until.year, until.month, until.day, utc_hour, tzinfo=UTC)


@pytest.mark.parametrize("zone", [None, ""])
def test_snooze_until_a_date_without_a_zone_ends_at_9_utc(zone: str | None) -> None:
    end = rules.snooze_end(SnoozeInput(until=date(2027, 1, 15)), NOW, zone)
    assert end == datetime(2027, 1, 15, 9, 0, tzinfo=UTC)
    assert end.utcoffset() == timedelta(0)


def test_snooze_ending_in_the_past_is_refused_with_its_date() -> None:
    problem = rules.snooze_problem(NOW - timedelta(days=3), NOW)
    assert problem == "snooze must end in the future; 2026-03-07 is not after today"


def test_snooze_ending_exactly_now_is_refused() -> None:
    problem = rules.snooze_problem(NOW, NOW)
    assert problem is not None
    assert "must end in the future" in problem


def test_snooze_until_a_past_date_in_the_leads_zone_is_refused() -> None:
    end = rules.snooze_end(SnoozeInput(until=date(2026, 3, 1)), NOW, CHICAGO)
    assert rules.snooze_problem(end, NOW) == "snooze must end in the future; 2026-03-01 is not after today"


def test_snooze_until_later_today_in_the_leads_zone_is_accepted() -> None:
    early = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # 06:00 in Chicago, before the 09:00 end
    end = rules.snooze_end(SnoozeInput(until=date(2026, 3, 10)), early, CHICAGO)
    assert rules.snooze_problem(end, early) is None


@pytest.mark.parametrize(
    "command",
    [SnoozeInput(days=732), SnoozeInput(weeks=105), SnoozeInput(months=25), SnoozeInput(until=date(2028, 6, 1))],
)
def test_snooze_longer_than_two_years_is_refused(command: SnoozeInput) -> None:
    problem = rules.snooze_problem(rules.snooze_end(command, NOW, None), NOW)
    assert problem is not None
    assert "is longer than 2 years" in problem
    assert "close the lead or pick a nearer date" in problem


def test_snooze_refusal_names_the_length_in_days() -> None:
    problem = rules.snooze_problem(NOW + timedelta(days=1000), NOW)
    assert problem is not None
    assert problem.startswith("snooze of 1000 days")


@pytest.mark.parametrize(
    "command",
    [
        SnoozeInput(months=24),  # 731 days here: spans Feb 29 2028
        SnoozeInput(days=731),
        SnoozeInput(weeks=104),
        SnoozeInput(days=1),
        SnoozeInput(until=date(2028, 3, 9)),
    ],
)
def test_snooze_of_up_to_two_years_is_accepted(command: SnoozeInput) -> None:
    assert rules.snooze_problem(rules.snooze_end(command, NOW, None), NOW) is None


def test_snooze_until_the_same_date_two_years_ahead_is_accepted_in_any_zone() -> None:
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    assert rules.snooze_problem(rules.snooze_end(SnoozeInput(months=24), now, CHICAGO), now) is None
    end = rules.snooze_end(SnoozeInput(until=date(2028, 6, 1)), now, CHICAGO)
    assert rules.snooze_problem(end, now) is None


@pytest.mark.parametrize("command", [SnoozeInput(days=10**9), SnoozeInput(months=100_000)])
def test_an_absurd_snooze_is_refused_with_the_two_year_message(command: SnoozeInput) -> None:
    problem = rules.snooze_problem(rules.snooze_end(command, NOW, None), NOW)
    assert problem is not None
    assert "longer than 2 years" in problem


# ------------------------------------------------------------------ pause_end


def test_pause_without_until_has_no_end() -> None:
    assert rules.pause_end(None, CHICAGO) is None


def test_pause_until_a_date_ends_at_9_in_the_leads_zone() -> None:
    end = rules.pause_end(date(2027, 1, 15), CHICAGO)
    assert end is not None
    assert end.astimezone(UTC) == datetime(2027, 1, 15, 15, 0, tzinfo=UTC)


def test_pause_until_a_date_without_a_zone_ends_at_9_utc() -> None:
    assert rules.pause_end(date(2027, 7, 15), None) == datetime(2027, 7, 15, 9, 0, tzinfo=UTC)


def test_pause_until_an_exact_moment_keeps_it() -> None:
    moment = datetime(2027, 1, 15, 17, 45, tzinfo=UTC)
    assert rules.pause_end(moment, CHICAGO) == moment


# ------------------------------------------------------------------ command validations


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        (Outcome.WON, "the lead is closed as won; no command applies to a closed lead"),
        (Outcome.BOUNCED, "the lead is closed as bounced; no command applies to a closed lead"),
        (None, "the lead is closed; no command applies to a closed lead"),
    ],
)
def test_closed_problem_refuses_commands_on_a_closed_lead(outcome: Outcome | None, expected: str) -> None:
    assert rules.closed_problem(Mode.CLOSED, outcome) == expected


@pytest.mark.parametrize("mode", OPEN_MODES)
def test_closed_problem_is_none_for_open_leads(mode: Mode) -> None:
    assert rules.closed_problem(mode, None) is None


@pytest.mark.parametrize("to", ["follow_up", "nurture"])
def test_move_to_the_current_mode_is_refused(to: str) -> None:
    assert rules.move_problem(Mode(to), to) == f"the lead is already in {to}"


@pytest.mark.parametrize(
    ("mode", "to"),
    [
        (Mode.FOLLOW_UP, "nurture"),
        (Mode.NURTURE, "follow_up"),
        (Mode.SNOOZED, "nurture"),
        (Mode.PAUSED, "follow_up"),
        (Mode.AWAITING_REP, "nurture"),
    ],
)
def test_move_to_another_mode_is_allowed(mode: Mode, to: str) -> None:
    assert rules.move_problem(mode, to) is None


@pytest.mark.parametrize("mode", [Mode.PAUSED, Mode.AWAITING_REP])
def test_resume_is_allowed_when_paused_or_awaiting_rep(mode: Mode) -> None:
    assert rules.resume_problem(mode) is None


@pytest.mark.parametrize("mode", [Mode.FOLLOW_UP, Mode.NURTURE, Mode.SNOOZED, Mode.CLOSED])
def test_resume_is_refused_when_there_is_nothing_to_resume(mode: Mode) -> None:
    assert rules.resume_problem(mode) == (
        f"nothing to resume: the lead is in {mode.value}, not paused or awaiting a rep"
    )


def test_pausing_a_paused_lead_is_refused() -> None:
    assert rules.pause_problem(Mode.PAUSED, None, NOW) == (
        "the lead is already paused; resume it first or change nothing"
    )


@pytest.mark.parametrize("end", [NOW - timedelta(hours=1), NOW])
def test_pause_until_a_past_moment_is_refused(end: datetime) -> None:
    assert rules.pause_problem(Mode.NURTURE, end, NOW) == f"pause 'until' {end.isoformat()} is in the past"


@pytest.mark.parametrize("mode", [Mode.FOLLOW_UP, Mode.NURTURE, Mode.SNOOZED, Mode.AWAITING_REP])
@pytest.mark.parametrize("end", [None, NOW + timedelta(days=1)])
def test_pause_is_allowed_open_ended_or_until_a_future_moment(mode: Mode, end: datetime | None) -> None:
    assert rules.pause_problem(mode, end, NOW) is None


def test_pause_until_a_date_is_checked_against_9_in_the_leads_zone() -> None:
    late = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)  # 11:00 in Chicago, after 09:00 local today
    end = rules.pause_end(date(2026, 3, 10), CHICAGO)
    problem = rules.pause_problem(Mode.NURTURE, end, late)
    assert problem == "pause 'until' 2026-03-10T09:00:00-05:00 is in the past"


def test_pause_until_a_local_time_without_offset_is_read_in_the_leads_zone() -> None:
    from workflows.models import PauseInput

    command = PauseInput.model_validate_json('{"reason": "on leave", "until": "2027-03-01T10:00:00"}')
    end = rules.pause_end(command.until, CHICAGO)
    assert rules.pause_problem(Mode.NURTURE, end, NOW) is None
    assert end is not None
    assert end.astimezone(UTC) == datetime(2027, 3, 1, 16, 0, tzinfo=UTC)


# ------------------------------------------------------------ events


def test_clicks_within_two_seconds_are_one_visit():
    first = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert rules.is_same_visit(first, first + timedelta(seconds=1.9))
    assert not rules.is_same_visit(first, first + timedelta(seconds=2))
    assert not rules.is_same_visit(None, first)


def test_a_classifier_date_must_lie_ahead_and_within_two_years():
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    assert rules.reply_until_problem(now - timedelta(hours=1), now)
    assert rules.reply_until_problem(now + timedelta(days=800), now)
    assert rules.reply_until_problem(now + timedelta(days=30), now) is None
