"""Worker interceptors: per-lead log context for every activity run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from temporalio import activity
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from workflows.models import RepTaskInput, TouchInput


def lead_log_context(workflow_id: str | None, args: Sequence[Any]) -> dict[str, str]:
    """The per-lead fields every log line of one activity run carries (ids only, never
    the lead's contact details)."""
    fields: dict[str, str] = {}
    if workflow_id:
        fields["workflow_id"] = workflow_id
    for arg in args:
        if isinstance(arg, TouchInput):
            fields |= {"lead_id": arg.lead.id, "step": arg.step.key}
        elif isinstance(arg, RepTaskInput):
            fields["lead_id"] = arg.lead_id
            if arg.touch is not None:
                fields["step"] = arg.touch.step.key
    return fields


class LeadLogContextInterceptor(Interceptor):
    """Binds lead_id, workflow_id and step into structlog's context for each activity,
    so activity code logs them without passing them around. The SDK copies the context
    into the thread that runs a sync activity."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _BindLeadContext(next)


class _BindLeadContext(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        fields = lead_log_context(activity.info().workflow_id, input.args)
        with structlog.contextvars.bound_contextvars(**fields):
            return await super().execute_activity(input)
