"""Names other services rely on (DESIGN.md, public contract). Never rename these."""

WORKFLOW_TYPE = "LeadWorkflow"
DEFAULT_TASK_QUEUE = "touchpoint"


def workflow_id(lead_id: str) -> str:
    return f"lead-{lead_id}"


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

# Patch ids (workflow.patched): leads started before a change keep replaying the old path.
PATCH_SEND_WINDOWS = "send-windows"
# A second click on a piece within seconds of the last counts as the same visit.
PATCH_CLICK_VISITS = "click-visits"
# Entering paused/awaiting_rep keeps the run instead of continuing as new.
PATCH_HOLD_IN_RUN = "hold-in-run"
