"""LeadWorkflow as an unguarded change would leave it: a timer before the real work.

It is registered under LeadWorkflow's type name, so a replayer runs it against the
committed histories, in none of which the first command is this timer. A module of its
own, not the test's: the sandbox imports a workflow's module again, and this one
imports nothing a workflow may not.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import workflows.names as names
    from workflows.models import LeadState

from workflows.lead import LeadWorkflow


@workflow.defn(name=names.WORKFLOW_TYPE)
class TimerFirstLeadWorkflow(LeadWorkflow):
    @workflow.run
    async def run(self, *args: Any) -> LeadState:
        await workflow.sleep(timedelta(minutes=1))
        return await super().run(*args)
