"""Send windows: the local hours in which a touch may reach a lead, and the plan_send models.

Pure pydantic v2 models, safe to import inside the workflow sandbox: no I/O beyond the
zone-database lookup that validates a zone name, no environment reads, no clock.
The rules that apply them live in activities/windows/planner.py.

Where a lead is: its IANA zone (Lead.timezone) sets the hours; its country (explicit, or
derived from the zone) sets the public holidays; its region, an ISO 3166-2 code such as
"US-FL" or "GB-ENG", adds the region's holidays and any stricter SMS hours. A zone does
not identify a US state (America/New_York covers Florida and New York alike), so the
region comes from the lead's attributes: see `region_from_attributes`.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from workflows.models import Channel

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
COUNTRY_PATTERN = r"^[A-Z]{2}$"
REGION_PATTERN = r"^[A-Z]{2}-[A-Z0-9]{1,3}$"

Weekday = Annotated[int, Field(ge=0, le=6, description="0 = Monday … 6 = Sunday")]


def iana_zone(value: str) -> str:
    """`value` if it names a zone of the IANA database, else a ValueError saying what to write."""
    try:
        zoneinfo.ZoneInfo(value)
    # A region such as "America" is a folder of the zone database: IsADirectoryError.
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"unknown time zone {value!r}: use an IANA name such as 'America/Chicago' "
            "or 'Europe/Berlin'"
        ) from None
    return value


class WindowRule(BaseModel):
    """Local wall-clock hours [start, end) on the given weekdays."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    days: tuple[Weekday, ...] = (0, 1, 2, 3, 4)
    start: time = time(9)
    end: time = time(17)
    jitter: bool = Field(
        default=True,
        description="Spread sends by the policy's jitter_minutes (off: at the earliest slot)",
    )

    @field_validator("days")
    @classmethod
    def _some_days(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value:
            raise ValueError("days is empty: list at least one weekday (0 = Monday … 6 = Sunday)")
        return tuple(sorted(set(value)))

    @field_validator("start", "end")
    @classmethod
    def _wall_clock(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError(
                f"{value} carries an offset: give a local wall-clock time such as '09:00' "
                "(the zone comes from the lead)"
            )
        return value

    @model_validator(mode="after")
    def _start_before_end(self) -> WindowRule:
        if self.start >= self.end:
            raise ValueError(
                f"start {self.start:%H:%M} must be before end {self.end:%H:%M}: "
                "a window lies within one local day"
            )
        return self

    def narrowed(self, other: WindowRule) -> WindowRule | None:
        """The hours both rules allow, or None when they have none in common."""
        days = set(self.days) & set(other.days)
        start, end = max(self.start, other.start), min(self.end, other.end)
        if not days or start >= end:
            return None
        return WindowRule(days=tuple(days), start=start, end=end, jitter=self.jitter)


_EVERY_DAY = (0, 1, 2, 3, 4, 5, 6)
# State telemarketing laws stricter than the TCPA's 8 a.m.-9 p.m.: Florida Telephone
# Solicitation Act (2021), Oklahoma Telephone Solicitation Act (2022), Maryland Stop the
# Spam Calls Act (2023) all allow 8 a.m.-8 p.m. at the called party's location.
STATE_SMS_HOURS = {
    region: WindowRule(days=_EVERY_DAY, start=time(8), end=time(20))
    for region in ("US-FL", "US-OK", "US-MD")
}


class SendWindowPolicy(BaseModel):
    """When each channel may reach a lead, or for rep tasks the rep, in their local time."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    email: WindowRule = WindowRule()
    # TCPA, 47 CFR 64.1200(c)(1): no solicitation before 8 a.m. or after 9 p.m. at the
    # called party's location, on any day of the week.
    sms: WindowRule = WindowRule(days=_EVERY_DAY, start=time(8), end=time(21))
    # Tasks are due in the rep's zone, unspread: one created out of hours is waiting at
    # the start of the rep's next business day; one created in hours is due at once.
    task: WindowRule = WindowRule(jitter=False)
    region_overrides: dict[str, WindowRule] = Field(
        default_factory=lambda: dict(STATE_SMS_HOURS),
        description=(
            "Stricter SMS hours keyed by ISO 3166-2 region ('US-FL'), country ('US') or IANA "
            "zone; every matching override narrows the sms window, never widens it"
        ),
    )
    skip_public_holidays: bool = Field(
        default=True, description="No touch on a public holiday of the lead's country and region"
    )
    company_holidays: tuple[date, ...] = Field(default=(), description="Days nothing is sent")
    jitter_minutes: int = Field(
        default=120,
        ge=0,
        le=24 * 60,
        description="A lead's send is at most this long after its earliest slot, in the window",
    )
    default_timezone: str = Field(
        default="America/New_York", description="For leads and reps with no zone on file"
    )

    @field_validator("default_timezone")
    @classmethod
    def _default_zone(cls, value: str) -> str:
        return iana_zone(value)

    @field_validator("region_overrides")
    @classmethod
    def _override_keys(cls, value: dict[str, WindowRule]) -> dict[str, WindowRule]:
        for key in value:
            if not (re.fullmatch(REGION_PATTERN, key) or re.fullmatch(COUNTRY_PATTERN, key)):
                try:
                    iana_zone(key)
                except ValueError:
                    raise ValueError(
                        f"region_overrides key {key!r} is neither a region ('US-FL'), "
                        "a country ('US') nor an IANA zone ('America/Chicago')"
                    ) from None
        return value

    @model_validator(mode="after")
    def _overrides_leave_hours(self) -> SendWindowPolicy:
        for key, override in self.region_overrides.items():
            if self.sms.narrowed(override) is None:
                raise ValueError(
                    f"region_overrides[{key!r}] has no hours in common with the sms window: "
                    "an override can only narrow it"
                )
        return self


class PlanSendInput(BaseModel):
    """Input of the plan_send activity.

    Zone, country and region are checked by the activity, not here: a bad value from a
    CRM then fails that one activity with a clear, non-retryable error instead of the
    workflow task that builds this input.
    """

    lead_id: str
    send_key: str
    channel: Channel
    due_at: AwareDatetime
    lead_timezone: str | None = None
    owner_timezone: str | None = Field(
        default=None, description="The rep's zone: used first for tasks"
    )
    country: str | None = Field(
        default=None, description="ISO 3166-1 alpha-2; derived from the region or zone when absent"
    )
    region: str | None = Field(default=None, description="ISO 3166-2 such as 'US-FL'")
    policy: SendWindowPolicy | None = Field(
        default=None, description="None: the worker's configured policy"
    )

    @field_validator("due_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)


class PlannedSend(BaseModel):
    send_at: AwareDatetime = Field(description="When to send, UTC")
    local_time: str = Field(description="send_at in `zone`, ISO 8601 with offset")
    zone: str = Field(description="The IANA zone the window was applied in")
    reason: str = Field(
        description="e.g. 'moved from Sat 03:10 to Mon 10:42 America/Chicago (weekend)'"
    )
    label: str = Field(description="For timer summaries, e.g. 'Mon 10:42 America/Chicago'")


def region_from_attributes(attributes: Mapping[str, object]) -> str | None:
    """The lead's region for PlanSendInput.region, from its free-form attributes.

    `region` holds an ISO 3166-2 code ("US-FL", "GB-ENG", "CA-ON"); failing that, `state`
    holds a US state's two-letter code ("FL"). Anything else gives None: the lead then
    gets its country's holidays and the default SMS hours.
    """
    region = attributes.get("region")
    if isinstance(region, str) and re.fullmatch(REGION_PATTERN, region.strip().upper()):
        return region.strip().upper()
    state = attributes.get("state")
    if isinstance(state, str) and re.fullmatch(r"[A-Za-z]{2}", state.strip()):
        return f"US-{state.strip().upper()}"
    return None
