"""Send windows: the earliest sensible local time for a touch, and the activity that plans it.

The workflow asks the `plan_send` activity instead of computing this itself: the answer
depends on the zone database and the holiday calendars, which change from release to
release, and an activity's result is recorded in history, so a replay with newer data
never re-decides a send that already happened.

Everything above `SendWindowActivities` is plain functions of their arguments. Instants
are compared in UTC; a local wall-clock time becomes an instant once, in `_instant`, so
no send time is produced twice or skipped around a clock change.
"""

import functools
import hashlib
import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from temporalio import activity
from temporalio.exceptions import ApplicationError

from workflows import names
from workflows.models import Channel
from workflows.send_window_models import (
    COUNTRY_PATTERN,
    REGION_PATTERN,
    WEEKDAYS,
    PlannedSend,
    PlanSendInput,
    SendWindowPolicy,
    WindowRule,
)

PLAN_SEND = names.PLAN_SEND
INVALID_SEND_WINDOW = names.INVALID_SEND_WINDOW
TASK_CHANNELS = frozenset({Channel.CALL_TASK, Channel.LINKEDIN_TASK})
# Days searched for a slot. Weekdays alone always leave one within a week; only a very
# long run of company holidays can exhaust this, and that is an error in the policy.
SEARCH_DAYS = 60


class SendWindowError(ValueError):
    """A zone, country, region or policy leaves no valid send time; the message says what to fix."""


def zone_for(
    lead_timezone: str | None,
    owner_timezone: str | None,
    default: str,
    *,
    prefer_owner: bool = False,
) -> ZoneInfo:
    """The lead's zone, else the owner's, else the default; the owner's first for rep tasks."""
    lead, owner = (lead_timezone, "the lead's time zone"), (owner_timezone, "the owner's time zone")
    candidates = (owner, lead) if prefer_owner else (lead, owner)
    for name, source in (*candidates, (default, "default_timezone")):
        if not name:
            continue
        try:
            return ZoneInfo(name)
        # A region such as "America" is a folder of the zone database: IsADirectoryError.
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise SendWindowError(
                f"unknown time zone {name!r} ({source}): use an IANA name such as "
                "'America/Chicago' or 'Europe/Berlin'"
            ) from None
    raise SendWindowError("no time zone: set default_timezone in the send-window policy")


def country_for(zone_name: str, explicit: str | None) -> str | None:
    """The ISO 3166-1 alpha-2 country: `explicit` if given, else the zone's, else None."""
    if explicit:
        country = explicit.strip().upper()
        if not re.fullmatch(COUNTRY_PATTERN, country):
            raise SendWindowError(
                f"country {explicit!r} is not an ISO 3166-1 alpha-2 code such as 'US' or 'GB'"
            )
        return country
    countries = _zone_countries()
    return countries.get(zone_name) or countries.get(_zone_links().get(zone_name, ""))


def next_send_time(
    due_at: datetime,
    channel: Channel,
    zone: ZoneInfo,
    policy: SendWindowPolicy,
    *,
    country: str | None,
    region: str | None,
    jitter_key: str,
) -> datetime:
    """The earliest instant >= due_at inside the channel's window, plus the key's jitter.

    The window is the channel's hours on an allowed weekday that is neither a public
    holiday of `country` (and `region`, ISO 3166-2 such as "US-FL") nor a company
    holiday. The jitter is a fixed offset per `jitter_key`, below the policy's
    jitter_minutes and never past the end of that day's window.
    """
    return _plan(
        due_at, channel, zone, policy, country=country, region=region, jitter_key=jitter_key
    )[0]


def plan_send(input: PlanSendInput, default_policy: SendWindowPolicy) -> PlannedSend:
    """When to send one touch, with the zone used, a reason and a timer label."""
    policy = input.policy or default_policy
    is_task = input.channel in TASK_CHANNELS
    zone = zone_for(
        input.lead_timezone, input.owner_timezone, policy.default_timezone, prefer_owner=is_task
    )
    zone_name = str(zone)
    if is_task:
        # A task is the rep's work: the holidays of the rep's zone, not the lead's.
        country, region = country_for(zone_name, None), None
    else:
        region = input.region.strip().upper() if input.region else None
        # A region such as "US-FL" names its country; _plan rejects one that is malformed.
        country = country_for(zone_name, input.country or (region[:2] if region else None))
    send_at, causes = _plan(
        input.due_at,
        input.channel,
        zone,
        policy,
        country=country,
        region=region,
        jitter_key=input.lead_id,
    )
    local = send_at.astimezone(zone)
    label = f"{_clock(local)} {zone_name}"
    due_local = input.due_at.astimezone(zone)
    if causes:
        # The weekday alone would mislead when a long holiday run moves a send a week or more.
        dated = (local.date() - due_local.date()).days >= 7
        shown = f"{_clock(local, dated=dated)} {zone_name}"
        reason = f"moved from {_clock(due_local)} to {shown} ({', '.join(causes)})"
    elif send_at > input.due_at:
        reason = f"in the {input.channel} window; spread from {_clock(due_local)} to {label}"
    else:
        reason = f"in the {input.channel} window: {label}"
    return PlannedSend(
        send_at=send_at, local_time=local.isoformat(), zone=zone_name, reason=reason, label=label
    )


def _plan(
    due_at: datetime,
    channel: Channel,
    zone: ZoneInfo,
    policy: SendWindowPolicy,
    *,
    country: str | None,
    region: str | None,
    jitter_key: str,
) -> tuple[datetime, tuple[str, ...]]:
    """The send instant and, when it is not inside the due day's window, why it moved."""
    subdivision = _subdivision(country, region)
    rule = _rule_for(policy, channel, zone=str(zone), country=country, region=region)
    due_at = due_at.astimezone(UTC)
    first_day = due_at.astimezone(zone).date()
    causes: list[str] = []
    for offset in range(SEARCH_DAYS):
        day = first_day + timedelta(days=offset)
        closed = _closed_because(day, rule, policy, country, subdivision)
        if closed:
            causes.append(closed)
            continue
        start, end = _instant(day, rule.start, zone), _instant(day, rule.end, zone)
        if start >= end:
            # Both ends fell in the same skipped hour of a clock change.
            causes.append("clock change")
            continue
        if due_at >= end:
            causes.append(f"after {rule.end:%H:%M}")
            continue
        if due_at < start and offset == 0:
            causes.append(f"before {rule.start:%H:%M}")
        earliest = max(start, due_at)
        spread = policy.jitter_minutes * 60 if rule.jitter else 0
        # Reduced to the room left in the window, so the jitter never leaves it.
        room = min(spread, math.floor((end - earliest).total_seconds()))
        return earliest + _jitter(jitter_key, room), tuple(dict.fromkeys(causes))
    raise SendWindowError(
        f"no {channel} send time within {SEARCH_DAYS} days of {first_day} in {zone}: "
        "the policy's days and company holidays leave no slot; shorten the company holidays"
    )


def _rule_for(
    policy: SendWindowPolicy,
    channel: Channel,
    *,
    zone: str,
    country: str | None,
    region: str | None,
) -> WindowRule:
    if channel in TASK_CHANNELS:
        return policy.task
    if channel == Channel.EMAIL:
        return policy.email
    rule = policy.sms
    for key in (zone, country, region):
        override = policy.region_overrides.get(key) if key else None
        if override is None:
            continue
        narrowed = rule.narrowed(override)
        if narrowed is None:
            raise SendWindowError(
                f"the SMS overrides matching {zone}, {country} and {region} have no hours in "
                "common: fix region_overrides"
            )
        rule = narrowed
    return rule


def _subdivision(country: str | None, region: str | None) -> str | None:
    """The holiday calendar's subdivision code for an ISO 3166-2 region ("US-FL" -> "FL")."""
    if region is None:
        return None
    if not re.fullmatch(REGION_PATTERN, region):
        raise SendWindowError(
            f"region {region!r} is not an ISO 3166-2 code such as 'US-FL' or 'GB-ENG'"
        )
    region_country, subdivision = region.split("-")
    if region_country != country:
        raise SendWindowError(
            f"region {region!r} is not in country {country!r}: fix the lead's country or region"
        )
    known = holidays.list_supported_countries().get(region_country)
    if known is not None and subdivision not in known:
        raise SendWindowError(
            f"region {region!r} is not a subdivision of {region_country} the holiday calendar "
            f"knows: use one of {', '.join(f'{region_country}-{code}' for code in known)}"
        )
    return subdivision


def _closed_because(
    day: date,
    rule: WindowRule,
    policy: SendWindowPolicy,
    country: str | None,
    subdivision: str | None,
) -> str | None:
    if day.weekday() not in rule.days:
        return "weekend" if day.weekday() >= 5 else f"no sends on {WEEKDAYS[day.weekday()]}"
    if day in policy.company_holidays:
        return "company holiday"
    if policy.skip_public_holidays and country:
        name = _public_holidays(country, subdivision, day.year).get(day)
        if name:
            return f"holiday: {name}"
    return None


def _instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """When `wall` happens on `day` in `zone`, as UTC.

    In a repeated hour (autumn) the first occurrence (fold=0). In a skipped hour (spring)
    the first valid instant after the gap, that is the moment of the clock change.
    """
    local = datetime.combine(day, wall, tzinfo=zone)
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None):
        return instant
    # In a gap fold=0 lands after the change and fold=1 before it: search between them
    # for the first second with the later offset (changes happen on whole seconds).
    before = math.floor(local.replace(fold=1).astimezone(UTC).timestamp())
    after = math.ceil(instant.timestamp())
    later_offset = datetime.fromtimestamp(after, zone).utcoffset()
    while after - before > 1:
        middle = (before + after) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == later_offset:
            after = middle
        else:
            before = middle
    return datetime.fromtimestamp(after, UTC)


def _jitter(key: str, limit_seconds: int) -> timedelta:
    """A fixed offset in [0, limit_seconds) for `key`: the same in every process and release.

    hashlib, not hash(): str hashes are salted per process. Whole seconds, so a batch of
    leads due together reaches the provider a few per second, not all in one second.
    """
    if limit_seconds <= 0:
        return timedelta(0)
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return timedelta(seconds=int.from_bytes(digest[:8], "big") % limit_seconds)


def _clock(local: datetime, *, dated: bool = False) -> str:
    # Fixed English day names: strftime's %a follows the process locale.
    day = f"{WEEKDAYS[local.weekday()]} {local:%Y-%m-%d}" if dated else WEEKDAYS[local.weekday()]
    return f"{day} {local:%H:%M}"


@functools.cache
def _public_holidays(country: str, subdivision: str | None, year: int) -> Mapping[date, str]:
    """One year's public holidays as a plain dict, safe to share between activity threads."""
    if country not in holidays.list_supported_countries():
        return {}
    return dict(holidays.country_holidays(country, subdiv=subdivision, years=year))


@functools.cache
def _zone_countries() -> dict[str, str]:
    """Zone name -> country, from the tables the tzdata package ships (the stdlib has none).

    zone.tab names one country per zone, including zones that are now links (Europe/Oslo);
    zone1970.tab adds the rest, listing the principal country first.
    """
    countries: dict[str, str] = {}
    for table in ("zone.tab", "zone1970.tab"):
        for line in _tzdata_lines(table):
            codes, _coordinates, zone, *_comment = line.split("\t")
            countries.setdefault(zone, codes.split(",")[0])
    return countries


@functools.cache
def _zone_links() -> dict[str, str]:
    """Link -> zone ("US/Eastern" -> "America/New_York"), for older names the tables omit."""
    links: dict[str, str] = {}
    for line in _tzdata_lines("tzdata.zi"):
        if line.startswith("L "):
            _kind, target, link = line.split()
            links[link] = target
    return links


def _tzdata_lines(name: str) -> list[str]:
    text = resources.files("tzdata").joinpath("zoneinfo", name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line and not line.startswith("#")]


class SendWindowActivities:
    def __init__(self, default_policy: SendWindowPolicy) -> None:
        self._default_policy = default_policy

    @activity.defn(name=PLAN_SEND)
    def plan_send(self, input: PlanSendInput) -> PlannedSend:
        """When to send one touch; recorded in history, so a replay never recomputes it."""
        try:
            return plan_send(input, self._default_policy)
        except SendWindowError as err:
            # A retry meets the same zone, region and policy; the workflow decides what to do.
            raise ApplicationError(
                f"lead {input.lead_id}: {err}", type=INVALID_SEND_WINDOW, non_retryable=True
            ) from err
