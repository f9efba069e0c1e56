"""Every name other services, the client, the ingest consumer and tests rely on, in one
home (DESIGN.md, public contract). Never rename the contract's names: running leads and
callers in other languages use them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

WORKFLOW_TYPE = "LeadWorkflow"
DEFAULT_TASK_QUEUE = "touchpoint"
_WORKFLOW_ID_PREFIX = "lead-"


def workflow_id(lead_id: str) -> str:
    return f"{_WORKFLOW_ID_PREFIX}{lead_id}"


def lead_id_of(workflow_id: str) -> str:
    """The lead id a workflow id `lead-<id>` names."""
    return workflow_id.removeprefix(_WORKFLOW_ID_PREFIX)


# Signals: machine events, fire-and-forget, deduplicated by event_id.
SIGNAL_REPLY = "reply"
SIGNAL_ENGAGEMENT = "engagement"
SIGNAL_DELIVERY = "delivery"
SIGNAL_TRIGGER = "trigger"
SIGNALS = (SIGNAL_REPLY, SIGNAL_ENGAGEMENT, SIGNAL_DELIVERY, SIGNAL_TRIGGER)

# Updates: human commands, validated, answered with the new state.
UPDATE_SNOOZE = "snooze"
UPDATE_PAUSE = "pause"
UPDATE_RESUME = "resume"
UPDATE_MOVE = "move"
UPDATE_CLOSE = "close"
UPDATE_COMPLETE_TASK = "complete_task"
# `touchpoint erase` closes the lead with it before destroying its key (GDPR Art. 17).
UPDATE_ERASE = "erase"

QUERY_STATE = "state"

# Activity names: fixed so workflow tests can mock them by name.
LOAD_CADENCE = "load_cadence"
SEND_EMAIL = "send_email"
SEND_SMS = "send_sms"
CREATE_REP_TASK = "create_rep_task"
PLAN_SEND = "plan_send"

# Error types activities raise, which the workflow turns into a paused lead.
TEMPLATE_ERROR = "TemplateError"
UNKNOWN_CADENCE = "UnknownCadence"
# A provider refused one message for good (e.g. SES MessageRejected): that touch is
# recorded as rejected with the reason, and the cadence goes on.
DELIVERY_REJECTED = "DeliveryRejected"
# A lead's zone/region data cannot be resolved to a send window: the lead pauses.
INVALID_SEND_WINDOW = "InvalidSendWindow"
# The workflow's input cannot be a lead: the run fails at once, naming the fields.
INVALID_ENROLLMENT = "InvalidEnrollment"
# A retry cannot fix these: the lead pauses with the message until staff resume it.
BLOCKING_ERRORS = (TEMPLATE_ERROR, UNKNOWN_CADENCE, INVALID_SEND_WINDOW)
# What the activity retry policy never retries.
NON_RETRYABLE_ERRORS = (*BLOCKING_ERRORS, DELIVERY_REJECTED)

# Patch ids (workflow.patched): leads started before a change keep replaying the old path.
# Retiring one (sdk-python's three steps): once no run that started before the patch
# is open (the longest a run lasts: one nurture rotation of 12 touches, about a year,
# or a hold), replace `patched(X)` by `deprecate_patch(X)` and delete the old branch;
# once no run from before that deploy is open either, remove the call. The replay
# histories recorded before the patch are deleted in the same commit as its old branch.
PATCH_SEND_WINDOWS = "send-windows"
# A second click on a piece within seconds of the last counts as the same visit.
PATCH_CLICK_VISITS = "click-visits"
# Entering paused/awaiting_rep keeps the run instead of continuing as new.
PATCH_HOLD_IN_RUN = "hold-in-run"
# Search attributes and details are published again once the send window is planned.
PATCH_PUBLISH_PLANNED = "publish-planned"
# A rejected signal counts as an event and wakes the main loop (which may continue as new).
PATCH_REJECTS_WAKE = "rejects-wake"
# A lead closed as meeting_booked stays open for the deal's outcome (won, lost, disqualified).
PATCH_DEAL_OUTCOME = "deal-outcome"


# Send keys: `{lead_id}:{seq:05d}:{step_key}`, unique per lead and touch forever. The
# ledger, SES tags, the outbox and rep task ids carry them; lead ids never hold ':'.
_SEND_KEY = re.compile(r"(?P<lead>[^:]+):(?P<seq>\d{5,}):(?P<step>.+)")


@dataclass(frozen=True)
class SendKey:
    lead_id: str
    seq: int
    step: str


def send_key(lead_id: str, seq: int, step_key: str) -> str:
    return f"{lead_id}:{seq:05d}:{step_key}"


def parse_send_key(key: str) -> SendKey | None:
    """The parts of a send key, or None when `key` is not one."""
    match = _SEND_KEY.fullmatch(key)
    if match is None:
        return None
    return SendKey(lead_id=match["lead"], seq=int(match["seq"]), step=match["step"])
