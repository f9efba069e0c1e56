"""Activity loggers: structlog bound with ids only, never an email address, phone or name."""

from typing import Any

import structlog
from temporalio import activity

from workflows.models import TouchInput


def activity_log(**fields: Any) -> Any:
    """A structlog logger bound with ids only: never an email address, phone or name."""
    if activity.in_activity():
        info = activity.info()
        fields |= {"workflow_id": info.workflow_id, "attempt": info.attempt}
    return structlog.get_logger("touchpoint.activities").bind(**fields)


def touch_log(touch: TouchInput) -> Any:
    return activity_log(
        lead_id=touch.lead.id, cadence=touch.cadence, step=touch.step.key, send_key=touch.send_key
    )
