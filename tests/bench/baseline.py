"""The baseline: the least a Temporal workflow can do per touch (one timer, one activity).

Touchpoint's throughput is compared with this on the same server, worker settings and
timer spacing, so the ratio shows what Touchpoint itself adds: cadence rules, models,
template rendering, the outbox write, search attributes and logging. This module is
loaded into the workflow sandbox: it imports nothing but the SDK and pydantic.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

WORKFLOW_TYPE = "BenchBareWorkflow"


class BareInput(BaseModel):
    # Seconds between touches: the follow-up cadence's gaps on the same clock.
    gaps: list[float]


@activity.defn(name="bench_noop")
def noop() -> None:
    """A touch that does nothing (a sync activity on the same thread pool as the real ones)."""


@workflow.defn(name=WORKFLOW_TYPE)
class BareWorkflow:
    @workflow.run
    async def run(self, input: BareInput) -> int:
        """Touches on the same schedule as LeadWorkflow: each is due a gap after the one
        before was due, and a timer waits only when it is not due yet (a busy worker can
        fall behind the fast clock; then both skip the same timers)."""
        due = workflow.now()
        for gap in input.gaps:
            due += timedelta(seconds=gap)
            delay = (due - workflow.now()).total_seconds()
            if delay > 0:
                await workflow.sleep(delay)
            await workflow.execute_activity(noop, start_to_close_timeout=timedelta(minutes=2))
        return len(input.gaps)
