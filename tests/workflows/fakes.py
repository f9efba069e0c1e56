"""Cadences and activities the workflow tests run against, mocked by activity name."""

from __future__ import annotations

from dataclasses import dataclass, field

from temporalio import activity
from temporalio.exceptions import ApplicationError

from workflows import names
from workflows.models import CadenceDefinition, EnrollLead, LoadCadenceInput, RepTaskInput, TouchInput, TouchResult
from workflows.send_window_models import PlannedSend, PlanSendInput

FOLLOW_UP = CadenceDefinition.model_validate(
    {
        "id": "follow-up",
        "version": 1,
        "mode": "follow_up",
        "title": "Follow-up",
        "after_last_step": "nurture",
        "steps": [
            {"key": "day-1-case-study", "day": 1, "channel": "email", "template": "fu/1", "purpose": "value-add case study"},
            {"key": "day-3-challenge", "day": 3, "channel": "email", "template": "fu/3", "purpose": "challenge from discovery"},
            {"key": "day-5-social-proof", "day": 5, "channel": "email", "template": "fu/5", "purpose": "social proof"},
            {"key": "day-7-yes-or-not-yet", "day": 7, "channel": "email", "template": "fu/7", "purpose": "yes or not yet?"},
            {"key": "day-10-final-note", "day": 10, "channel": "email", "template": "fu/10", "purpose": "final note",
             "thread": False},
        ],
    }
)
NURTURE = CadenceDefinition.model_validate(
    {
        "id": "nurture",
        "version": 1,
        "mode": "nurture",
        "title": "Nurture",
        "every_months": 1,
        "check_in": {"key": "check-in", "channel": "email", "template": "n/check-in", "purpose": "check-in after snooze"},
        "steps": [
            {"key": "insight", "channel": "email", "template": "n/insight", "purpose": "industry insight"},
            {"key": "case-study", "channel": "email", "template": "n/case", "purpose": "case study"},
            {"key": "whats-changed", "channel": "email", "template": "n/changed", "purpose": "what's changed"},
            {"key": "direct-check-in", "channel": "email", "template": "n/direct", "purpose": "direct check-in"},
            {"key": "new-resource", "channel": "email", "template": "n/resource", "purpose": "new resource"},
            {"key": "gentle-offer", "channel": "email", "template": "n/offer", "purpose": "gentle offer"},
        ],
    }
)
DUNNING = CadenceDefinition.model_validate(
    {
        "id": "dunning",
        "version": 1,
        "mode": "follow_up",
        "title": "Payment failure",
        "after_last_step": "stop",
        "steps": [
            {"key": "day-0-email", "day": 0, "channel": "email", "template": "d/0", "purpose": "payment failed"},
            {"key": "day-7-sms", "day": 7, "channel": "sms", "template": "d/7", "purpose": "sms reminder"},
            {"key": "day-10-call", "day": 10, "channel": "call_task", "template": "d/10", "purpose": "call the customer",
             "wait_for_task_days": 3},
        ],
    }
)
CADENCES = {c.id: c for c in (FOLLOW_UP, NURTURE, DUNNING)}


@dataclass
class Recorder:
    """What the mocked activities were asked to do, in order."""

    touches: list[TouchInput] = field(default_factory=list)
    tasks: list[RepTaskInput] = field(default_factory=list)
    broken_templates: set[str] = field(default_factory=set)
    plans: list[PlanSendInput] = field(default_factory=list)
    rejected_templates: set[str] = field(default_factory=set)
    suppressed: str | None = None

    @property
    def steps(self) -> list[str]:
        return [t.step.key for t in self.touches]

    def activities(self) -> list:
        recorder = self

        @activity.defn(name=names.LOAD_CADENCE)
        async def load_cadence(input: LoadCadenceInput) -> CadenceDefinition:
            if input.cadence_id not in CADENCES:
                raise ApplicationError(
                    f"unknown cadence {input.cadence_id!r}", type=names.UNKNOWN_CADENCE, non_retryable=True
                )
            return CADENCES[input.cadence_id]

        def check(touch: TouchInput) -> None:
            if touch.step.template in recorder.rejected_templates:
                raise ApplicationError(
                    "SES rejected the message (MessageRejected): fix the content, the next step goes on",
                    type=names.DELIVERY_REJECTED,
                    non_retryable=True,
                )
            if touch.step.template in recorder.broken_templates:
                raise ApplicationError(
                    f"template {touch.step.template}.email.j2 needs variable 'context.discovery_notes'",
                    type=names.TEMPLATE_ERROR,
                    non_retryable=True,
                )

        @activity.defn(name=names.PLAN_SEND)
        async def plan_send(input: PlanSendInput) -> PlannedSend:
            # Windows are the real activity's business (tested on their own): send as due.
            recorder.plans.append(input)
            due = input.due_at
            return PlannedSend(
                send_at=due, local_time=due.isoformat(), zone="UTC", reason="as due", label=f"{due:%a %H:%M} UTC"
            )

        @activity.defn(name=names.SEND_EMAIL)
        async def send_email(touch: TouchInput) -> TouchResult:
            check(touch)
            recorder.touches.append(touch)
            if recorder.suppressed:
                return TouchResult(send_key=touch.send_key, status="skipped", detail=f"suppressed: {recorder.suppressed}")
            return TouchResult(send_key=touch.send_key, status="sent", message_id=f"<{touch.send_key}>")

        @activity.defn(name=names.SEND_SMS)
        async def send_sms(touch: TouchInput) -> TouchResult:
            recorder.touches.append(touch)
            if not touch.lead.sms_consent:
                return TouchResult(send_key=touch.send_key, status="skipped", detail="no SMS consent")
            return TouchResult(send_key=touch.send_key, status="sent")

        @activity.defn(name=names.CREATE_REP_TASK)
        async def create_rep_task(task: RepTaskInput) -> TouchResult:
            if task.touch is not None:
                recorder.touches.append(task.touch)
            recorder.tasks.append(task)
            return TouchResult(send_key=task.task_id, status="task_created")

        return [load_cadence, plan_send, send_email, send_sms, create_rep_task]


def enroll(mode: str = "follow_up", lead_id: str = "crm-0042", **extra) -> EnrollLead:
    return EnrollLead.model_validate(
        {
            "lead": {
                "id": lead_id,
                "email": "dana@acme.example",
                "first_name": "Dana",
                "company": "Acme Freight",
                "timezone": "America/Chicago",
                "owner": "rep-7",
                "segment": "logistics",
            },
            "mode": mode,
            "context": {"trigger": "proposal_sent", "discovery_notes": "dispatch takes 3 people"},
            **extra,
        }
    )
