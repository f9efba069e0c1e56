"""Issue 12: what `touchpoint` tells a person about a lead, run as a user runs it."""

from __future__ import annotations

import json
import re

import pytest

from tests.integration.helpers import Finished, RunningWorker, cli_env, run

pytestmark = pytest.mark.integration


async def touchpoint(worker: RunningWorker, *args: str) -> Finished:
    return await run("touchpoint", *args, env=cli_env(worker))


async def enroll(worker: RunningWorker, lead_id: str) -> None:
    finished = await touchpoint(
        worker, "enroll", "--id", lead_id, "--email", f"{lead_id}@example.example", "--mode", "follow_up"
    )
    assert finished.code == 0, finished.stderr


async def test_state_of_a_terminated_lead_says_so_and_since_when(worker: RunningWorker) -> None:
    await enroll(worker, "status-1")
    await worker.client.get_workflow_handle("lead-status-1").terminate(reason="ops cleanup")

    shown = await touchpoint(worker, "state", "status-1")
    as_json = await touchpoint(worker, "state", "status-1", "--json")

    assert shown.code == 0, shown.stderr
    assert re.search(r"workflow\s+terminated at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC: last known state", shown.stdout)
    assert as_json.code == 0, as_json.stderr
    assert json.loads(as_json.stdout)["lead_id"] == "status-1"
    assert re.fullmatch(
        r"touchpoint: lead status-1's workflow terminated at \S+ \S+ UTC: nothing runs for it, "
        r"and the state shown is the last known\n",
        as_json.stderr,
    )


async def test_state_of_a_running_lead_has_no_stopped_line(worker: RunningWorker) -> None:
    await enroll(worker, "status-2")

    shown = await touchpoint(worker, "state", "status-2")

    assert shown.code == 0, shown.stderr
    assert "workflow" not in shown.stdout and "last known" not in shown.stdout
