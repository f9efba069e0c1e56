"""Send windows (activities/windows/planner.py): a touch arrives at a sensible local time.

Pure functions: no Temporal, no clock. The property test checks every plan against an
independent day-by-day scan; the named cases pin the rules a user would ask about.
"""

from __future__ import annotations

import functools
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from activities.windows.planner import TASK_CHANNELS, SendWindowError, country_for, next_send_time, plan_send, zone_for
from workflows.models import LEAD_ID_PATTERN, Channel
from workflows.send_window_models import (
    PlannedSend,
    PlanSendInput,
    SendWindowPolicy,
    WindowRule,
    region_from_attributes,
)

DEFAULT = SendWindowPolicy()
NO_JITTER = SendWindowPolicy(jitter_minutes=0)
NEW_YORK = ZoneInfo("America/New_York")

# Zone -> the country whose public holidays apply. None of these zones changes its clocks
# between 05:00 and 23:00 local time (2020-2035), so inside the generated windows below
# a wall-clock time is one instant; the clock changes themselves have named tests.
ZONES: dict[str, str | None] = {
    "America/New_York": "US",
    "America/Chicago": "US",
    "America/Denver": "US",
    "America/Phoenix": "US",
    "America/Los_Angeles": "US",
    "America/Anchorage": "US",
    "Pacific/Honolulu": "US",
    "America/Toronto": "CA",
    "America/St_Johns": "CA",
    "America/Mexico_City": "MX",
    "America/Sao_Paulo": "BR",
    "Europe/London": "GB",
    "Europe/Dublin": "IE",
    "Europe/Paris": "FR",
    "Europe/Berlin": "DE",
    "Europe/Madrid": "ES",
    "Africa/Johannesburg": "ZA",
    "Asia/Dubai": "AE",
    "Asia/Kolkata": "IN",
    "Asia/Kathmandu": "NP",
    "Asia/Singapore": "SG",
    "Asia/Tokyo": "JP",
    "Australia/Sydney": "AU",
    "Australia/Lord_Howe": "AU",
    "Pacific/Auckland": "NZ",
    "Pacific/Chatham": "NZ",
    "UTC": None,
}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def plan(
    due_at: datetime,
    channel: Channel | str = Channel.EMAIL,
    lead_timezone: str | None = "America/New_York",
    *,
    policy: SendWindowPolicy | None = None,
    owner_timezone: str | None = None,
    region: str | None = None,
    lead_id: str = "crm-0042",
) -> PlannedSend:
    return plan_send(
        PlanSendInput(
            lead_id=lead_id,
            send_key=f"{lead_id}:follow-up@v1:day-3",
            channel=channel,
            due_at=due_at,
            lead_timezone=lead_timezone,
            owner_timezone=owner_timezone,
            region=region,
            policy=policy,
        ),
        DEFAULT,
    )


def local(planned: PlannedSend) -> datetime:
    return planned.send_at.astimezone(ZoneInfo(planned.zone))


# ------------------------------------------------------------------ the property


@functools.cache
def public_holidays(country: str) -> holidays.HolidayBase:
    return holidays.country_holidays(country)


def rule_of(policy: SendWindowPolicy, channel: Channel) -> WindowRule:
    if channel in TASK_CHANNELS:
        return policy.task
    return policy.sms if channel == Channel.SMS else policy.email


def first_open_day(
    due_at: datetime,
    zone: ZoneInfo,
    rule: WindowRule,
    policy: SendWindowPolicy,
    country: str | None,
) -> date:
    """The first local day on or after due's whose window is open and not yet over at due."""
    day = due_at.astimezone(zone).date()
    while True:
        public = policy.skip_public_holidays and country is not None
        closed = (
            day.weekday() not in rule.days
            or day in policy.company_holidays
            or (public and day in public_holidays(country))
        )
        if not closed and datetime.combine(day, rule.end, tzinfo=zone) > due_at:
            return day
        day += timedelta(days=1)


def minutes(value: int) -> time:
    return time(value // 60, value % 60)


@st.composite
def window_rules(draw: st.DrawFn) -> WindowRule:
    start = draw(st.integers(5 * 60, 23 * 60 - 1))
    end = draw(st.integers(start + 1, 23 * 60))
    return WindowRule(
        days=tuple(draw(st.sets(st.integers(0, 6), min_size=1))),
        start=minutes(start),
        end=minutes(end),
        jitter=draw(st.booleans()),
    )


@st.composite
def holiday_runs(draw: st.DrawFn) -> tuple[date, ...]:
    """Up to two runs of up to three weeks of company holidays: long closures included."""
    runs = draw(
        st.lists(
            st.tuples(st.dates(date(2019, 12, 1), date(2036, 1, 31)), st.integers(1, 21)),
            max_size=2,
        )
    )
    return tuple(first + timedelta(days=i) for first, length in runs for i in range(length))


policies = st.one_of(
    st.just(DEFAULT),
    st.builds(
        SendWindowPolicy,
        email=window_rules(),
        sms=window_rules(),
        task=window_rules(),
        region_overrides=st.just({}),
        skip_public_holidays=st.booleans(),
        company_holidays=holiday_runs(),
        jitter_minutes=st.integers(0, 600),
    ),
)


@settings(max_examples=300, deadline=None)
@given(
    due_at=st.datetimes(datetime(2020, 1, 1), datetime(2035, 12, 31), timezones=st.just(UTC)),
    lead_zone=st.sampled_from(sorted(ZONES)),
    owner_zone=st.sampled_from(sorted(ZONES)),
    channel=st.sampled_from(list(Channel)),
    policy=policies,
    lead_id=st.from_regex(LEAD_ID_PATTERN, fullmatch=True),
)
def test_every_send_lands_on_the_first_open_day_inside_its_window(
    due_at: datetime,
    lead_zone: str,
    owner_zone: str,
    channel: Channel,
    policy: SendWindowPolicy,
    lead_id: str,
) -> None:
    planned = plan(
        due_at, channel, lead_zone, policy=policy, owner_timezone=owner_zone, lead_id=lead_id
    )

    zone_name = owner_zone if channel in TASK_CHANNELS else lead_zone
    zone, country, rule = ZoneInfo(zone_name), ZONES[zone_name], rule_of(policy, channel)
    sent = local(planned)
    assert planned.zone == zone_name
    assert planned.send_at >= due_at
    assert sent.weekday() in rule.days
    assert rule.start <= sent.time() < rule.end
    assert sent.date() not in policy.company_holidays
    if policy.skip_public_holidays and country is not None:
        assert sent.date() not in public_holidays(country)
    # The bound: never later than the first open day's window, and on it at most the
    # jitter after the later of due and that window's start.
    day = first_open_day(due_at, zone, rule, policy, country)
    assert sent.date() == day
    earliest = max(due_at, datetime.combine(day, rule.start, tzinfo=zone))
    spread = timedelta(minutes=policy.jitter_minutes if rule.jitter else 0)
    assert earliest <= planned.send_at <= earliest + spread
    assert datetime.fromisoformat(planned.local_time) == planned.send_at
    # Deterministic: the same input always gives the same plan.
    assert plan(
        due_at, channel, lead_zone, policy=policy, owner_timezone=owner_zone, lead_id=lead_id
    ) == planned


# ------------------------------------------------------------------ jitter


def test_ten_thousand_leads_due_at_once_spread_over_two_hours() -> None:
    due = utc(2026, 6, 8, 13)  # Monday 09:00 in New York
    sends = [
        next_send_time(
            due,
            Channel.EMAIL,
            NEW_YORK,
            DEFAULT,
            country="US",
            region=None,
            jitter_key=f"lead-{i:05d}",
        )
        for i in range(10_000)
    ]

    per_minute = Counter(send.replace(second=0) for send in sends)
    per_second = Counter(sends)
    assert min(sends) >= due and max(sends) < due + timedelta(minutes=120)
    # Measured: all 120 minutes used, 63-104 sends per minute, at most 7 in one second.
    assert len(per_minute) == 120
    assert max(per_minute.values()) <= 110
    assert max(per_second.values()) <= 8


def test_a_leads_jitter_is_the_same_in_every_process() -> None:
    # A fixed value: hash() would change with each process's salt, sha256 does not.
    planned = plan(utc(2026, 6, 15, 13), lead_id="crm-0042")

    assert planned.send_at == utc(2026, 6, 15, 14, 15, 49)
    assert planned.label == "Mon 10:15 America/New_York"


def test_jitter_never_pushes_a_send_past_the_end_of_the_window() -> None:
    due = utc(2026, 6, 8, 20, 50)  # Monday 16:50 in New York: ten minutes left
    sends = [plan(due, lead_id=f"lead-{i}").send_at for i in range(200)]

    assert all(due <= send < utc(2026, 6, 8, 21) for send in sends)
    assert len(set(sends)) > 100


# ------------------------------------------------------------------ clock changes

EARLY_HOURS = SendWindowPolicy(
    email=WindowRule(days=(0, 1, 2, 3, 4, 5, 6), start=time(1, 30), end=time(3, 30), jitter=False),
    sms=WindowRule(days=(0, 1, 2, 3, 4, 5, 6), start=time(2, 30), end=time(5), jitter=False),
    region_overrides={},
    skip_public_holidays=False,
)


def test_window_start_in_the_spring_forward_gap_opens_when_the_clocks_change() -> None:
    # 2026-03-08: New York skips 02:00-03:00; a 02:30 start does not exist that day.
    planned = plan(utc(2026, 3, 8, 5), Channel.SMS, policy=EARLY_HOURS)

    assert planned.send_at == utc(2026, 3, 8, 7)
    assert planned.local_time == "2026-03-08T03:00:00-04:00"


def test_window_start_in_the_autumn_repeated_hour_is_its_first_occurrence() -> None:
    # 2026-11-01: New York lives 01:00-02:00 twice; 01:30 means the first, in EDT.
    planned = plan(utc(2026, 11, 1, 4), policy=EARLY_HOURS)

    assert planned.send_at == utc(2026, 11, 1, 5, 30)
    assert planned.local_time == "2026-11-01T01:30:00-04:00"


@pytest.mark.parametrize(
    ("day", "window_opens", "window_closes"),
    [
        # 01:30 EST to 03:30 EDT: one real hour.
        (date(2026, 3, 8), utc(2026, 3, 8, 6, 30), utc(2026, 3, 8, 7, 30)),
        # 01:30 EDT to 03:30 EST: three real hours.
        (date(2026, 11, 1), utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 8, 30)),
    ],
)
def test_a_window_across_a_clock_change_lasts_its_real_length_and_keeps_order(
    day: date, window_opens: datetime, window_closes: datetime
) -> None:
    step = timedelta(minutes=5)
    dues = [datetime.combine(day, time(3), tzinfo=UTC) + i * step for i in range(12 * 7)]
    sends = [plan(due, policy=EARLY_HOURS).send_at for due in dues]

    pairs = list(zip(dues, sends, strict=True))
    assert sends == sorted(sends)
    assert all(send >= max(due, window_opens) for due, send in pairs)
    # Every due instant inside the real window goes out as due: none skipped, none doubled.
    inside = [(due, send) for due, send in pairs if window_opens <= due < window_closes]
    assert len(inside) == (window_closes - window_opens) / step
    assert all(send == due for due, send in inside)


# ------------------------------------------------------------------ holidays


def test_no_email_on_thanksgiving() -> None:
    planned = plan(utc(2026, 11, 25, 23))  # Wednesday 18:00 in New York

    sent = local(planned)
    assert sent.date() == date(2026, 11, 27)
    assert time(9) <= sent.time() < time(11)
    assert planned.reason.endswith("(after 17:00, holiday: Thanksgiving Day)")


def test_florida_also_keeps_the_friday_after_thanksgiving() -> None:
    planned = plan(utc(2026, 11, 25, 23), region="US-FL")

    assert local(planned).date() == date(2026, 11, 30)
    assert "holiday: Friday After Thanksgiving" in planned.reason


def test_no_email_over_christmas_in_the_uk() -> None:
    planned = plan(utc(2026, 12, 24, 17, 30), lead_timezone="Europe/London")

    assert local(planned).date() == date(2026, 12, 29)
    assert planned.reason == (
        f"moved from Thu 17:30 to {planned.label} "
        "(after 17:00, holiday: Christmas Day, weekend, holiday: Boxing Day (observed))"
    )


def test_english_lead_skips_the_summer_bank_holiday() -> None:
    # The holiday calendar keeps England's bank holidays under region GB-ENG.
    planned = plan(utc(2026, 8, 28, 16, 30), lead_timezone="Europe/London", region="GB-ENG")

    assert local(planned).date() == date(2026, 9, 1)
    assert "holiday: Late Summer Bank Holiday" in planned.reason


def test_a_long_company_closure_moves_sends_into_the_new_year() -> None:
    closure = SendWindowPolicy(company_holidays=tuple(date(2026, 12, d) for d in range(28, 32)))

    planned = plan(utc(2026, 12, 24, 23, 10), lead_timezone="America/Chicago", policy=closure)

    sent = local(planned)
    assert sent.date() == date(2027, 1, 4)
    assert planned.reason.startswith(
        f"moved from Thu 17:10 to Mon 2027-01-04 {sent:%H:%M} America/Chicago (after 17:00, "
    )
    assert "company holiday" in planned.reason and "holiday: New Year's Day" in planned.reason


def test_public_holidays_can_be_turned_off() -> None:
    planned = plan(utc(2026, 12, 25, 15), policy=SendWindowPolicy(skip_public_holidays=False))

    assert local(planned).date() == date(2026, 12, 25)


def test_a_policy_that_leaves_no_day_in_sixty_says_so() -> None:
    closed = SendWindowPolicy(
        company_holidays=tuple(date(2026, 1, 1) + timedelta(days=i) for i in range(90))
    )

    with pytest.raises(SendWindowError, match="no email send time within 60 days of 2026-01-01"):
        plan(utc(2026, 1, 1, 15), policy=closed)


def test_holidays_follow_the_country_of_the_zone() -> None:
    assert {zone: country_for(zone, None) for zone in ZONES} == ZONES
    # Older names are links to current zones.
    assert country_for("US/Eastern", None) == "US"
    assert country_for("Asia/Calcutta", None) == "IN"
    # An explicit country wins over the zone.
    assert country_for("America/New_York", "pr") == "PR"


# ------------------------------------------------------------------ SMS hours


def test_sms_due_in_quiet_hours_goes_out_the_next_morning() -> None:
    planned = plan(utc(2026, 6, 10, 1, 30), Channel.SMS)  # Tuesday 21:30 in New York

    sent = local(planned)
    assert sent.date() == date(2026, 6, 10)
    assert time(8) <= sent.time() < time(10)
    assert planned.reason.endswith("(after 21:00)")


def test_sms_goes_out_on_weekends_within_legal_hours() -> None:
    planned = plan(utc(2026, 6, 13, 14), Channel.SMS)  # Saturday 10:00 in New York

    assert local(planned).date() == date(2026, 6, 13)


def test_florida_texts_stop_at_eight_pm() -> None:
    due = utc(2026, 6, 10, 0, 30)  # Tuesday 20:30 in New York and Miami

    elsewhere = local(plan(due, Channel.SMS, policy=NO_JITTER))
    florida = plan(due, Channel.SMS, region="US-FL", policy=NO_JITTER)

    assert elsewhere.date() == date(2026, 6, 9) and elsewhere.time() == time(20, 30)
    assert local(florida).isoformat() == "2026-06-10T08:00:00-04:00"
    assert florida.reason.endswith("(after 20:00)")


def test_florida_texts_wait_for_eight_am() -> None:
    planned = plan(utc(2026, 6, 10, 11, 30), Channel.SMS, region="US-FL", policy=NO_JITTER)

    assert planned.local_time == "2026-06-10T08:00:00-04:00"


def test_an_override_by_zone_narrows_sms_hours_too() -> None:
    quiet_chicago = SendWindowPolicy(
        jitter_minutes=0,
        region_overrides={"America/Chicago": WindowRule(start=time(10), end=time(18))},
    )

    planned = plan(utc(2026, 6, 13, 14), Channel.SMS, "America/Chicago", policy=quiet_chicago)

    assert planned.local_time == "2026-06-15T10:00:00-05:00"


@pytest.mark.parametrize(
    ("attributes", "region"),
    [
        ({"region": "US-FL"}, "US-FL"),
        ({"region": " gb-eng "}, "GB-ENG"),
        ({"state": "fl"}, "US-FL"),
        ({"region": "CA-ON", "state": "FL"}, "CA-ON"),
        ({"state": "Florida"}, None),
        ({}, None),
    ],
)
def test_region_comes_from_the_leads_attributes(attributes: dict, region: str | None) -> None:
    assert region_from_attributes(attributes) == region


# ------------------------------------------------------------------ rep tasks


@pytest.mark.parametrize("channel", sorted(TASK_CHANNELS))
def test_task_due_on_saturday_is_due_at_the_start_of_the_reps_monday(channel: Channel) -> None:
    planned = plan(
        utc(2026, 6, 13, 15), channel, "Asia/Tokyo", owner_timezone="America/Los_Angeles"
    )

    assert planned.send_at == utc(2026, 6, 15, 16)
    assert planned.label == "Mon 09:00 America/Los_Angeles"
    assert planned.reason == "moved from Sat 08:00 to Mon 09:00 America/Los_Angeles (weekend)"


def test_task_due_in_the_reps_working_hours_is_due_at_once() -> None:
    due = utc(2026, 6, 9, 18)  # Tuesday 11:00 in Los Angeles

    planned = plan(due, Channel.CALL_TASK, "Asia/Tokyo", owner_timezone="America/Los_Angeles")

    assert planned.send_at == due
    assert planned.reason == "in the call_task window: Tue 11:00 America/Los_Angeles"


def test_task_follows_the_reps_holidays_not_the_leads() -> None:
    # 2026-07-03 is US Independence Day (observed), an ordinary Friday in Japan.
    planned = plan(
        utc(2026, 7, 2, 22), Channel.CALL_TASK, "Asia/Tokyo", owner_timezone="America/Chicago"
    )

    assert planned.local_time == "2026-07-06T09:00:00-05:00"


# ------------------------------------------------------------------ zones


def test_leads_in_tokyo_and_new_york_due_together_get_their_own_working_hours() -> None:
    due = utc(2026, 6, 10, 3)  # Wednesday 12:00 in Tokyo, Tuesday 23:00 in New York

    tokyo, new_york = local(plan(due, lead_timezone="Asia/Tokyo")), local(plan(due))

    assert tokyo.date() == date(2026, 6, 10) and time(12) <= tokyo.time() < time(14)
    assert new_york.date() == date(2026, 6, 10) and time(9) <= new_york.time() < time(11)


def test_zone_falls_back_from_lead_to_owner_to_default() -> None:
    assert str(zone_for("Asia/Tokyo", "Europe/Berlin", "America/New_York")) == "Asia/Tokyo"
    assert str(zone_for(None, "Europe/Berlin", "America/New_York")) == "Europe/Berlin"
    assert str(zone_for("", None, "America/New_York")) == "America/New_York"
    assert str(zone_for("Asia/Tokyo", "Europe/Berlin", "UTC", prefer_owner=True)) == "Europe/Berlin"


def test_unknown_zone_says_which_zone_to_fix() -> None:
    with pytest.raises(SendWindowError, match=r"time zone 'America' \(the lead's time zone\)"):
        zone_for("America", None, "America/New_York")


@pytest.mark.parametrize(
    ("region", "country", "message"),
    [
        ("US-ZZ", None, r"region 'US-ZZ' is not a subdivision of US .* use one of .*US-FL"),
        ("Florida", None, r"region 'FLORIDA' is not an ISO 3166-2 code"),
        ("US-FL", "CA", r"region 'US-FL' is not in country 'CA'"),
    ],
)
def test_a_bad_region_says_what_to_fix(region: str, country: str | None, message: str) -> None:
    with pytest.raises(SendWindowError, match=message):
        plan_send(
            PlanSendInput(
                lead_id="crm-0042",
                send_key="crm-0042:dunning@v1:day-7",
                channel=Channel.SMS,
                due_at=utc(2026, 6, 10, 15),
                lead_timezone="America/New_York",
                country=country,
                region=region,
            ),
            DEFAULT,
        )


# ------------------------------------------------------------------ policies


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"email": {"days": []}}, "days is empty: list at least one weekday"),
        ({"email": {"days": [7]}}, "less than or equal to 6"),
        ({"sms": {"start": "21:00", "end": "08:00"}}, "start 21:00 must be before end 08:00"),
        ({"task": {"start": "09:00", "end": "09:00"}}, "start 09:00 must be before end 09:00"),
        ({"default_timezone": "Eastern"}, "unknown time zone 'Eastern'"),
        ({"jitter_minutes": -5}, "greater than or equal to 0"),
        (
            {"region_overrides": {"US-FL": {"days": [6], "start": "21:30", "end": "22:00"}}},
            r"region_overrides\['US-FL'\] has no hours in common with the sms window",
        ),
        (
            {"region_overrides": {"Florida": {"start": "08:00", "end": "20:00"}}},
            "key 'Florida' is neither a region",
        ),
    ],
)
def test_an_invalid_policy_is_rejected_with_what_to_fix(policy: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SendWindowPolicy.model_validate(policy)


def test_policy_defaults_follow_business_hours_and_the_tcpa() -> None:
    email, sms = DEFAULT.email, DEFAULT.sms
    assert (email.days, email.start, email.end) == ((0, 1, 2, 3, 4), time(9), time(17))
    assert (sms.days, sms.start, sms.end) == ((0, 1, 2, 3, 4, 5, 6), time(8), time(21))
    assert DEFAULT.task.jitter is False
    assert DEFAULT.region_overrides["US-FL"].end == time(20)


def test_policy_round_trips_as_json_for_other_services() -> None:
    policy = SendWindowPolicy(company_holidays=(date(2026, 12, 24),), jitter_minutes=30)

    assert SendWindowPolicy.model_validate_json(policy.model_dump_json()) == policy
    written = SendWindowPolicy.model_validate({"email": {"days": [4, 0, 2], "start": "10:00"}})
    assert (written.email.days, written.email.start) == ((0, 2, 4), time(10))
