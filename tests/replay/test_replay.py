"""Committed histories replay against the current LeadWorkflow, and fail to replay
against one changed without a guard.

A failure of the first kind means a change would break leads already running: guard the
change with `workflow.patched(...)` instead of re-recording the history.
"""

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, WorkflowReplayResult
from temporalio.workflow import NondeterminismError

from tests.replay.nondeterministic import TimerFirstLeadWorkflow
from tests.replay.record import SCENARIOS
from workflows.lead import LeadWorkflow
from workflows.sandbox import workflow_runner

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_every_recorded_scenario_is_committed():
    names = {path.name.split(".run")[0] for path in HISTORIES}
    assert names == set(SCENARIOS)


async def replay(workflow_class: type, path: Path) -> WorkflowReplayResult:
    replayer = Replayer(
        workflows=[workflow_class],
        workflow_runner=workflow_runner(),
        data_converter=pydantic_data_converter,
    )
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    return await replayer.replay_workflow(history, raise_on_replay_failure=False)


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays_without_nondeterminism(path: Path):
    result = await replay(LeadWorkflow, path)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_an_unguarded_change_fails_replay_with_nondeterminism(path: Path):
    """The check above can fail: a timer added before the real work breaks every history."""
    result = await replay(TimerFirstLeadWorkflow, path)

    failure = result.replay_failure
    assert isinstance(failure, NondeterminismError), f"{path.name}: {failure!r}"
    # TMPRL1100 is Temporal's code for nondeterminism; the command that diverged is the timer.
    assert "TMPRL1100" in str(failure) and "Timer" in str(failure), f"{path.name}: {failure}"
