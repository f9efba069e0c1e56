"""Issue 12: what `touchpoint` tells a person about a lead, run as a user runs it."""

from __future__ import annotations

import json
import re

import pytest

from tests.integration.helpers import Finished, RunningWorker, cli_env, eventually, run

pytestmark = pytest.mark.integration


async def touchpoint(worker: RunningWorker, *args: str) -> Finished:
    return await run("touchpoint", *args, env=cli_env(worker))


async def enroll(worker: RunningWorker, lead_id: str) -> None:
    finished = await touchpoint(
        worker, "enroll", "--id", lead_id, "--email", f"{lead_id}@example.example", "--owner", "rep-status",
        "--mode", "follow_up",
    )  # fmt: skip
    assert finished.code == 0, finished.stderr


async def test_state_of_a_terminated_lead_says_so_and_since_when(worker: RunningWorker) -> None:
    await enroll(worker, "status-1")
    handle = worker.client.get_workflow_handle("lead-status-1")
    # Its first workflow task done (the state is then in its history), as for any lead ops would stop.
    await eventually(lambda: handle.query("state"), what="the lead's first workflow task")
    await handle.terminate(reason="ops cleanup")

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


async def test_a_workflow_id_given_as_lead_id_gets_the_lead_id_suggested(worker: RunningWorker) -> None:
    await enroll(worker, "status-3")

    shown = await touchpoint(worker, "state", "lead-status-3")

    assert shown.code == 1
    assert shown.stderr == (
        "touchpoint: no lead lead-status-3 is enrolled: commands take the lead id, "
        "not the workflow id (lead-<id>); try status-3\n"
    )


async def test_completing_the_task_of_a_lead_awaiting_its_rep_says_resume_is_next(worker: RunningWorker) -> None:
    await enroll(worker, "status-4")
    replied = await touchpoint(worker, "reply", "status-4", "--text", "Can we talk on Tuesday?")
    assert replied.code == 0, replied.stderr
    state = await eventually(lambda: _open_tasks(worker, "status-4"), what="a rep task for status-4")

    done = await touchpoint(worker, "complete-task", "status-4", "--task-id", state[0]["task_id"], "--result", "called")

    assert done.code == 0, done.stderr
    assert "awaiting_rep" in done.stdout
    assert done.stdout.rstrip().endswith(
        "the lead still awaits its rep: `touchpoint resume status-4` restarts its cadence"
    )


async def test_list_of_closed_leads_shows_their_outcome(worker: RunningWorker) -> None:
    await enroll(worker, "status-5")
    closed = await touchpoint(worker, "close", "status-5", "--outcome", "won")
    assert closed.code == 0, closed.stderr

    async def listed() -> str:
        finished = await touchpoint(worker, "list", "--mode", "closed", "--owner", "rep-status")
        assert finished.code == 0, finished.stderr
        return finished.stdout if "status-5" in finished.stdout else ""

    shown = await eventually(listed, what="status-5 listed as closed")

    assert "outcome" in shown
    assert re.search(r"status-5 .* won", shown)


async def _open_tasks(worker: RunningWorker, lead_id: str) -> list[dict]:
    finished = await touchpoint(worker, "state", lead_id, "--json")
    assert finished.code == 0, finished.stderr
    return json.loads(finished.stdout)["open_tasks"]
