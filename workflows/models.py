"""The public contract of LeadWorkflow: every model other services send or read.

Pure pydantic v2 models: no I/O, no environment reads, no clock or random defaults,
so the module is safe to import inside the workflow sandbox. Field names follow the
JSON in DESIGN.md exactly; fields added later always get a default so that histories
and callers written against an older version keep working.
"""

from __future__ import annotations

import json
import re
import unicodedata
import zoneinfo
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

import phonenumbers
from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationInfo, field_validator, model_validator

LEAD_ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
CADENCE_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
STEP_KEY_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
IDENTIFIER_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}"
EVENT_ID_MAX = 200
# Free text from callers (notes, reasons, results): every run's history and state carry
# it, so it is capped like every other field another service sends.
NOTE_MAX = 2000
# The deal context and lead attributes travel in every touch and every continue-as-new.
CONTEXT_MAX_BYTES = 32 * 1024
ATTRIBUTES_MAX = 50
ATTRIBUTE_TEXT_MAX = 1000


class Mode(StrEnum):
    FOLLOW_UP = "follow_up"
    NURTURE = "nurture"
    SNOOZED = "snoozed"
    PAUSED = "paused"
    AWAITING_REP = "awaiting_rep"
    CLOSED = "closed"


# Modes that send a cadence; modes where automation stops until a person (or a date)
# moves the lead on; every mode but closed.
CADENCE_MODES = (Mode.FOLLOW_UP, Mode.NURTURE)
HOLDING_MODES = (Mode.PAUSED, Mode.AWAITING_REP)
OPEN_MODES = (Mode.FOLLOW_UP, Mode.NURTURE, Mode.SNOOZED, Mode.PAUSED, Mode.AWAITING_REP)


CadenceMode = Literal["follow_up", "nurture"]


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    CALL_TASK = "call_task"
    LINKEDIN_TASK = "linkedin_task"


class Outcome(StrEnum):
    MEETING_BOOKED = "meeting_booked"
    WON = "won"
    LOST = "lost"
    UNSUBSCRIBED = "unsubscribed"
    DISQUALIFIED = "disqualified"
    # Set by delivery events only; a human closes with one of the five above.
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    # Set by `touchpoint erase` only (the `erase` update): the person's data is destroyed.
    ERASED = "erased"


CloseOutcome = Literal["meeting_booked", "won", "lost", "unsubscribed", "disqualified"]
ReplyIntent = Literal["positive", "question", "not_now", "negative", "unsubscribe", "auto_reply"]
# call/linkedin: a cadence step for the rep; reply, click, trigger: what the lead did that a
# person should answer.
TaskKind = Literal["call", "linkedin", "reply", "click", "trigger"]


class _Strict(BaseModel):
    """Input models reject unknown fields: a typo must be an error, not ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --------------------------------------------------------------------------- lead


class Lead(_Strict):
    id: str = Field(pattern=LEAD_ID_PATTERN, description="CRM id; becomes part of the workflow id")
    email: EmailStr
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    company: str | None = Field(default=None, max_length=200)
    timezone: str | None = Field(default=None, description="IANA time zone, e.g. America/Chicago")
    phone: str | None = Field(default=None, description="E.164, e.g. +13125550142")
    sms_consent: bool = Field(default=False, description="The lead agreed to receive SMS")
    owner: str | None = Field(default=None, max_length=100, description="Rep id, not a name")
    segment: str | None = Field(default=None, max_length=100, description="Segment id, e.g. logistics")
    attributes: dict[str, str | int | float | bool | None] = Field(default_factory=dict)

    @field_validator("id", mode="before")
    @classmethod
    def _id_explained(cls, value: Any) -> Any:
        if isinstance(value, str) and not re.fullmatch(LEAD_ID_PATTERN, value):
            raise ValueError(
                f"lead id {value!r} must be 1-64 characters of letters, digits, '_', '.' or '-' "
                "(it becomes part of the workflow id); map other CRM ids to such a key"
            )
        return value

    @field_validator("attributes")
    @classmethod
    def _attributes_bounded(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(value) > ATTRIBUTES_MAX:
            raise ValueError(f"attributes holds {len(value)} entries; at most {ATTRIBUTES_MAX}")
        for key, item in value.items():
            if len(key) > 64 or (isinstance(item, str) and len(item) > ATTRIBUTE_TEXT_MAX):
                raise ValueError(
                    f"attributes: keys are at most 64 characters and texts at most {ATTRIBUTE_TEXT_MAX}"
                )
        return value

    @field_validator("owner", "segment")
    @classmethod
    def _identifier(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Both go into search attributes and the Web UI's summary, stored unencrypted.
        if value and not re.fullmatch(IDENTIFIER_PATTERN, value):
            raise ValueError(
                f"{info.field_name} must be an id of letters, digits, '_', '.', ':' or '-' (at most 100), "
                "not a name or an email address: it is stored unencrypted in search attributes"
            )
        return value or None

    @field_validator("first_name", "last_name", "company")
    @classmethod
    def _one_line(cls, value: str | None, info: ValidationInfo) -> str | None:
        # A line break in a name would end an email header (or be refused by the provider
        # on every send): refuse it here, where the caller can fix the record.
        if value is not None and any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in value):
            raise ValueError(f"{info.field_name} must be one line of text, without line breaks or control characters")
        return value

    @field_validator("email")
    @classmethod
    def _ascii_local_part(cls, value: str) -> str:
        # SES and most relays refuse internationalized (SMTPUTF8) local parts: every touch
        # to such an address would be rejected. The domain may be internationalized.
        if not value.rpartition("@")[0].isascii():
            raise ValueError("the part of the email address before '@' must be ASCII (SES cannot send to others)")
        return value

    @field_validator("timezone")
    @classmethod
    def _iana_zone(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        try:
            zoneinfo.ZoneInfo(value)
        # A region such as "America" is a folder of the zone database: IsADirectoryError.
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(
                f"unknown time zone {value!r}: use an IANA name such as 'America/Chicago' or 'Europe/Berlin'"
            ) from None
        return value

    @field_validator("phone")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        message = f"phone {value!r} is not an E.164 number: write it as '+' then country code and number, e.g. +13125550142"
        if not re.fullmatch(r"\+[1-9]\d{6,14}", value):
            raise ValueError(message)
        try:
            parsed = phonenumbers.parse(value, None)
        except phonenumbers.NumberParseException:
            raise ValueError(message) from None
        if not phonenumbers.is_valid_number(parsed):
            raise ValueError(f"phone {value!r} is not a valid number for its country code")
        return value


class EnrollLead(_Strict):
    """Input of LeadWorkflow. Only lead.id, lead.email and mode are required."""

    lead: Lead
    mode: CadenceMode
    context: dict[str, Any] = Field(default_factory=dict, description="Deal context for templates")
    follow_up_cadence: str = Field(default="follow-up", pattern=CADENCE_ID_PATTERN)
    nurture_cadence: str = Field(default="nurture", pattern=CADENCE_ID_PATTERN)
    speedup: float = Field(
        default=1,
        ge=1,
        le=10_000_000,
        description="Clock speed-up: every wait is divided by it (1 = real time)",
    )
    email_task_queue: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Task queue for send_email, where the worker enforces the provider's rate; "
        "unset: the lead's own queue",
    )
    memory: LeadMemory | None = Field(
        default=None,
        description="Set by the engine itself on continue-as-new; never by callers",
    )

    @field_validator("context")
    @classmethod
    def _context_bounded(cls, value: dict[str, Any]) -> dict[str, Any]:
        size = len(json.dumps(value, default=str))
        if size > CONTEXT_MAX_BYTES:
            raise ValueError(
                f"context is {size} bytes as JSON; at most {CONTEXT_MAX_BYTES}: keep what templates need "
                "and link to the rest"
            )
        return value

    @field_validator("mode", mode="before")
    @classmethod
    def _mode_explained(cls, value: Any) -> Any:
        if value not in ("follow_up", "nurture"):
            raise ValueError(f"mode {value!r} is not a starting mode: use 'follow_up' or 'nurture'")
        return value


# ------------------------------------------------------------------------ cadences


class CadenceStep(_Strict):
    key: str = Field(pattern=STEP_KEY_PATTERN, description="Unique within the cadence")
    day: int | None = Field(default=None, ge=0, le=366, description="Offset from day 0 (sequences)")
    channel: Channel
    template: str = Field(pattern=r"^[a-z0-9][a-z0-9/_-]*$", description="Template name without suffix")
    purpose: str = Field(min_length=1, max_length=120)
    content_id: str | None = Field(default=None, description="Content piece tracked for clicks")
    thread: bool = Field(
        default=True,
        description="Follow-up emails after the first reply in the previous email's thread",
    )
    wait_for_task_days: int | None = Field(
        default=None,
        ge=1,
        le=30,
        description="Call/LinkedIn steps: wait until the rep completes the task, at most this long",
    )

    @model_validator(mode="after")
    def _wait_only_for_tasks(self) -> CadenceStep:
        if self.wait_for_task_days is not None and self.channel not in (Channel.CALL_TASK, Channel.LINKEDIN_TASK):
            raise ValueError(f"step {self.key}: wait_for_task_days applies only to call_task and linkedin_task steps")
        return self

    @property
    def content(self) -> str:
        return self.content_id or self.template


class CadenceDefinition(_Strict):
    """A versioned cadence: a finite sequence (by day) or an indefinite rotation (monthly)."""

    id: str = Field(pattern=CADENCE_ID_PATTERN)
    version: int = Field(ge=1)
    mode: CadenceMode
    title: str = Field(min_length=1)
    description: str = ""
    every_months: int | None = Field(default=None, ge=1, le=12, description="Rotation interval")
    after_last_step: Literal["nurture", "stop"] = "nurture"
    check_in: CadenceStep | None = Field(default=None, description="Touch sent when a snooze ends")
    steps: list[CadenceStep] = Field(min_length=1)

    @model_validator(mode="after")
    def _shape(self) -> CadenceDefinition:
        keys = [s.key for s in self.steps]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise ValueError(f"step keys must be unique: {', '.join(duplicates)} repeated")
        if self.every_months is None:
            previous = -1
            for index, step in enumerate(self.steps):
                if step.day is None:
                    raise ValueError(
                        f"steps[{index}] ({step.key}): a sequence step needs 'day' "
                        "(or give the cadence 'every_months' to make it a rotation)"
                    )
                if step.day <= previous:
                    raise ValueError(
                        f"steps[{index}] ({step.key}): day {step.day} must come after day {previous}"
                    )
                previous = step.day
        else:
            for index, step in enumerate(self.steps):
                if step.day is not None:
                    raise ValueError(
                        f"steps[{index}] ({step.key}): a rotation step has no 'day'; "
                        "it is sent every_months after the previous one"
                    )
        return self

    @property
    def ref(self) -> str:
        return f"{self.id}@v{self.version}"


# -------------------------------------------------------------------------- events


class _Event(_Strict):
    event_id: str = Field(min_length=1, max_length=EVENT_ID_MAX)


class ReplyEvent(_Event):
    text: str = Field(default="", max_length=100_000)
    received_at: datetime | None = None
    channel: Literal["email", "sms"] = "email"
    intent: ReplyIntent | None = Field(
        default=None,
        description="Set by a classifier; absent means a human must read it",
    )
    until: date | None = Field(
        default=None,
        description=(
            "auto_reply: the day the sender is back (automation pauses until then); "
            "not_now: the day to check back (the lead is snoozed until then)"
        ),
    )
    explanation: str = Field(
        default="", max_length=500, description="Why the classifier chose this intent"
    )


class EngagementEvent(_Event):
    # sms_opt_out/sms_opt_in: the lead texted STOP (or START): SMS only, email goes on.
    kind: Literal["open", "click", "unsubscribe", "sms_opt_out", "sms_opt_in"]
    content_id: str | None = None
    url: str | None = None
    at: datetime | None = None
    user_agent: str | None = None
    automated: bool = Field(default=False, description="Made by a scanner or bot, not a person")


class DeliveryEvent(_Event):
    kind: Literal["delivered", "bounce", "complaint", "delayed", "rejected", "rendering_failure"]
    permanent: bool = False
    at: datetime | None = None
    send_key: str | None = None


class TriggerEvent(_Event):
    name: str = Field(min_length=1, max_length=100)
    note: str = Field(default="", max_length=NOTE_MAX)


# ------------------------------------------------------------------------ commands


class SnoozeInput(_Strict):
    """Exactly one of months, weeks, days or until."""

    months: int | None = None
    weeks: int | None = None
    days: int | None = None
    until: date | None = None
    reason: str = Field(default="", max_length=NOTE_MAX)

    @model_validator(mode="after")
    def _exactly_one(self) -> SnoozeInput:
        given = {
            name: getattr(self, name)
            for name in ("months", "weeks", "days", "until")
            if getattr(self, name) is not None
        }
        if len(given) != 1:
            raise ValueError(
                "snooze needs exactly one of months, weeks, days or until "
                f"(got {', '.join(given) or 'none'}), e.g. {{\"months\": 3}}"
            )
        ((name, value),) = given.items()
        if name != "until" and value <= 0:
            raise ValueError(f"snooze {name} must be at least 1 (got {value})")
        return self


class PauseInput(_Strict):
    reason: str = Field(min_length=1, max_length=500)
    until: date | datetime | None = None


class ResumeInput(_Strict):
    note: str = Field(default="", max_length=NOTE_MAX)


class MoveInput(_Strict):
    to: CadenceMode
    reason: str = Field(default="", max_length=NOTE_MAX)


class CloseInput(_Strict):
    outcome: CloseOutcome
    note: str = Field(default="", max_length=NOTE_MAX)


class EraseInput(_Strict):
    """The `erase` update: close the lead for good before its data is destroyed."""

    note: str = Field(default="", max_length=NOTE_MAX)


class CompleteTaskInput(_Strict):
    task_id: str = Field(min_length=1, max_length=EVENT_ID_MAX)
    result: str = Field(default="", max_length=NOTE_MAX)


# --------------------------------------------------------------------------- state


class TouchRecord(BaseModel):
    step: str
    channel: Channel
    sent_at: datetime
    cadence: str
    send_key: str
    status: Literal["sent", "task_created", "skipped", "rejected"] = "sent"
    detail: str = ""


class TransitionRecord(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    from_mode: Mode = Field(alias="from")
    to_mode: Mode = Field(alias="to")
    reason: str
    at: datetime


class RepTask(BaseModel):
    task_id: str
    kind: TaskKind
    title: str
    created_at: datetime
    done: bool = False
    result: str = ""


class RejectedEvent(BaseModel):
    signal: str
    event_id: str | None
    error: str
    at: datetime


class LeadState(BaseModel):
    """What the `state` query returns, and what every update returns."""

    lead_id: str
    mode: Mode
    cadence: str | None = None
    step: str | None = None
    next_touch_at: datetime | None = None
    next_touch: str | None = None
    touches: list[TouchRecord] = Field(default_factory=list)
    touches_total: int = 0
    transitions: list[TransitionRecord] = Field(default_factory=list)
    outcome: Outcome | None = None
    pause_reason: str | None = None
    paused_until: datetime | None = None
    snoozed_until: datetime | None = None
    open_tasks: list[RepTask] = Field(default_factory=list)
    done_tasks: list[RepTask] = Field(default_factory=list)
    human_clicks: dict[str, int] = Field(default_factory=dict)
    sms_opted_out: bool = Field(default=False, description="The lead texted STOP; START undoes it")
    rejected_events: list[RejectedEvent] = Field(default_factory=list)
    run: int = 1


class LeadMemory(BaseModel):
    """Everything one run hands to the next on continue-as-new."""

    state: LeadState
    follow_up: CadenceDefinition | None = None
    nurture: CadenceDefinition | None = None
    # Index of the next step of the follow-up sequence, and of the nurture rotation.
    step_index: int = 0
    nurture_rotation: int = 0
    # When the next touch of the current cadence is due (real workflow time).
    due_at: datetime | None = None
    # Paused/awaiting_rep: the mode to go back to and how much of its wait was left.
    resume_mode: Mode | None = None
    remaining_seconds: float | None = None
    touch_seq: int = 0
    task_seq: int = 0
    last_touch_step: str | None = None
    last_email_message_id: str | None = None
    # The send window planned for the current due time (recorded, so replay keeps it).
    planned_for: str | None = None
    send_at: datetime | None = None
    send_label: str | None = None
    seen_event_ids: list[str] = Field(default_factory=list)
    # When the last counted human click on each piece happened (provider time): a second
    # click within seconds is one visit (a scanner's burst or a double click), not two.
    last_click_at: dict[str, datetime] = Field(default_factory=dict)
    pending_tasks: list[RepTaskInput] = Field(default_factory=list)


# ---------------------------------------------------------------------- activities


class LoadCadenceInput(BaseModel):
    cadence_id: str


class TouchInput(BaseModel):
    """One touch to render and deliver. send_key is unique per lead and touch, forever."""

    send_key: str
    lead: Lead
    context: dict[str, Any] = Field(default_factory=dict)
    cadence: str
    mode: CadenceMode
    step: CadenceStep
    thread_with: str | None = Field(
        default=None, description="message_id of the email this follow-up threads onto"
    )
    speedup: float = Field(default=1, description="The lead's clock speed-up: delivery refuses real sends above 1")


class TouchResult(BaseModel):
    send_key: str
    status: Literal["sent", "task_created", "skipped", "rejected"]
    message_id: str | None = None
    detail: str = ""


class RepTaskInput(BaseModel):
    """A task for the lead's rep. With `touch`, its body is the step's template."""

    task_id: str
    kind: TaskKind
    lead_id: str
    owner: str | None = None
    title: str
    note: str = ""
    touch: TouchInput | None = None
    # The lead's clock: a fast one's tasks never reach a real queue (activities/delivery/fast_clock.py).
    speedup: float = 1


LeadMemory.model_rebuild()
EnrollLead.model_rebuild()
