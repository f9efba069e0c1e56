"""The `touchpoint` CLI end to end, as a user runs it: a subprocess against a dev server."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from tests.integration.helpers import Finished, RunningWorker, cli_env, completed, eventually, outbox_files, run

pytestmark = pytest.mark.integration

# One simulated day every 0.1 s: the follow-up's day-1 touch goes out almost at once.
FAST = "864000"

LEADS_CSV = """\
id,email,first_name,owner,segment,mode,attr.challenge,context.trigger
csv-1,dana@acme-freight.example,Dana,rep-1,logistics,follow_up,manual dispatch,proposal_sent
csv-2,li@northwind.example,Li,rep-2,healthcare,nurture,no-shows on Mondays,
csv-3,not-an-email,Amara,rep-1,legal,follow_up,,
csv-4,jonas@fjord-outdoor.example,Jonas,rep-2,retail,follow_up,,call_completed
csv-1,dana.reyes@acme-freight.example,Dana,rep-1,logistics,follow_up,,
"""


async def touchpoint(worker: RunningWorker, *args: str) -> Finished:
    return await run("touchpoint", *args, env=cli_env(worker))


async def enroll(worker: RunningWorker, lead_id: str, *, mode: str = "follow_up", speedup: str = FAST) -> None:
    finished = await touchpoint(
        worker,
        "enroll", "--id", lead_id, "--email", f"{lead_id}@example.example", "--first-name", "Sam",
        "--owner", "rep-1", "--mode", mode, "--speedup", speedup,
    )  # fmt: skip
    assert finished.code == 0, finished.stderr
    assert f"enrolled lead {lead_id}" in finished.stdout


async def state_json(worker: RunningWorker, lead_id: str) -> dict:
    finished = await touchpoint(worker, "state", lead_id, "--json")
    assert finished.code == 0, finished.stderr
    return json.loads(finished.stdout)


async def test_csv_import_twice_enrolls_each_lead_once_and_reports_bad_rows_by_line(
    worker: RunningWorker, tmp_path: Path
) -> None:
    leads = tmp_path / "leads.csv"
    leads.write_text(LEADS_CSV)

    first = await touchpoint(worker, "enroll", "--csv", str(leads), "--speedup", FAST)
    second = await touchpoint(worker, "enroll", "--csv", str(leads), "--speedup", FAST)

    assert first.code == 1, "bad rows make the import fail"
    assert "enrolled 3, already enrolled 0, bad rows 2" in first.stdout
    assert "line 4: email: " in first.stdout
    assert "line 6: duplicate id 'csv-1' (first on line 2)" in first.stdout
    assert second.code == 1
    assert "enrolled 0, already enrolled 3, bad rows 2" in second.stdout
    assert "Traceback" not in first.stderr + second.stderr
    # The good rows are running leads that send their touches.
    sent = await eventually(lambda: outbox_files(worker.outbox, "csv-1"), what="csv-1's first email")
    assert "day-1-case-study" in sent[0].name


async def test_enroll_json_from_stdin_enrolls_the_valid_items(worker: RunningWorker) -> None:
    items = [
        {"lead": {"id": "json-1", "email": "json-1@acme.example"}, "mode": "nurture"},
        {"lead": {"id": "json-2", "email": "not-an-email"}, "mode": "nurture"},
        {"lead": {"id": "json-1", "email": "json-1@acme.example"}, "mode": "follow_up"},
    ]

    finished = await run("touchpoint", "enroll", "--json", "-", env=cli_env(worker), stdin=json.dumps(items))

    assert finished.code == 1
    assert "enrolled 1, already enrolled 0, bad items 2" in finished.stdout
    assert "item 2: lead.email: " in finished.stdout
    assert "item 3: duplicate id 'json-1' (first in item 1)" in finished.stdout
    assert (await state_json(worker, "json-1"))["mode"] == "nurture"


async def test_state_snooze_and_close_as_support_staff_would(worker: RunningWorker) -> None:
    await enroll(worker, "cli-10")
    await eventually(lambda: _touches(worker, "cli-10"), what="cli-10's first touch")

    shown = await touchpoint(worker, "state", "cli-10")
    snoozed = await touchpoint(worker, "snooze", "cli-10", "--months", "3", "--reason", "budget opens in Q3")
    closed = await touchpoint(worker, "close", "cli-10", "--outcome", "won", "--note", "signed")
    await eventually(lambda: completed(worker.client, "lead-cli-10"), what="cli-10's run to end")
    after_close = await touchpoint(worker, "snooze", "cli-10", "--days", "3")
    re_enroll = await touchpoint(
        worker, "enroll", "--id", "cli-10", "--email", "cli-10@example.example", "--mode", "follow_up"
    )

    assert shown.code == 0, shown.stderr
    for label in ("mode", "step", "next touch", "touches", "transitions", "open tasks"):
        assert label in shown.stdout
    assert "day-1-case-study" in shown.stdout
    assert snoozed.code == 0, snoozed.stderr
    assert "snoozed" in snoozed.stdout and "budget opens in Q3" in snoozed.stdout
    assert closed.code == 0, closed.stderr
    assert "closed" in closed.stdout and "won" in closed.stdout
    assert after_close.code == 1
    assert "lead cli-10 is closed (outcome won)" in after_close.stderr
    assert re_enroll.code == 0, re_enroll.stderr
    assert "already enrolled and closed (outcome won): not restarted" in re_enroll.stdout
    assert (await state_json(worker, "cli-10"))["mode"] == "closed"


async def test_a_rejected_command_prints_the_reason_and_exits_non_zero(worker: RunningWorker) -> None:
    await enroll(worker, "cli-20", speedup="1")

    resumed = await touchpoint(worker, "resume", "cli-20")
    completed = await touchpoint(worker, "complete-task", "cli-20", "--task-id", "nope", "--result", "done")

    assert resumed.code == 1
    assert resumed.stderr.strip() == (
        "touchpoint: rejected: nothing to resume: the lead is in follow_up, not paused or awaiting a rep"
    )
    assert completed.code == 1
    assert "rejected: no open task 'nope'" in completed.stderr
    assert resumed.stdout == completed.stdout == ""


async def test_a_reply_hands_the_lead_to_its_rep_who_completes_the_task(worker: RunningWorker) -> None:
    await enroll(worker, "cli-30", speedup="1")

    replied = await touchpoint(worker, "reply", "cli-30", "--text", "Can we talk on Tuesday?")
    state = await eventually(
        lambda: _state_when(worker, "cli-30", lambda s: s["open_tasks"]), what="a rep task for cli-30"
    )
    task_id = state["open_tasks"][0]["task_id"]
    done = await touchpoint(worker, "complete-task", "cli-30", "--task-id", task_id, "--result", "called back")

    assert replied.code == 0, replied.stderr
    assert state["mode"] == "awaiting_rep"
    assert done.code == 0, done.stderr
    assert (await state_json(worker, "cli-30"))["open_tasks"] == []


async def test_a_trigger_moves_a_nurture_lead_to_follow_up(worker: RunningWorker) -> None:
    await enroll(worker, "cli-31", mode="nurture", speedup="1")

    triggered = await touchpoint(worker, "trigger", "cli-31", "--name", "funding_round", "--note", "Series B")
    state = await eventually(
        lambda: _state_when(worker, "cli-31", lambda s: s["mode"] == "follow_up"), what="cli-31 in follow-up"
    )

    assert triggered.code == 0, triggered.stderr
    assert state["transitions"][-1]["reason"] == "trigger: funding_round"


async def test_list_filters_leads_by_owner_and_mode(worker: RunningWorker) -> None:
    for lead_id, owner in (("cli-40", "rep-list-a"), ("cli-41", "rep-list-b")):
        finished = await touchpoint(
            worker, "enroll", "--id", lead_id, "--email", f"{lead_id}@example.example",
            "--owner", owner, "--segment", "obrien-sons", "--mode", "nurture",
        )  # fmt: skip
        assert finished.code == 0, finished.stderr

    async def listed() -> list[dict]:
        finished = await touchpoint(
            worker, "list", "--owner", "rep-list-a", "--segment", "obrien-sons", "--mode", "nurture", "--json"
        )
        assert finished.code == 0, finished.stderr
        leads = json.loads(finished.stdout)
        # Visibility is eventually consistent: wait for the workflow's own first update.
        return leads if leads and leads[0]["step"] else []

    leads = await eventually(listed, what="cli-40 with its current step in visibility")

    assert [lead["lead_id"] for lead in leads] == ["cli-40"]
    assert leads[0]["mode"] == "nurture"
    # A filter value is quoted, never part of the query: this one finds nothing.
    forged = await touchpoint(
        worker, "list", "--segment", "obrien-sons' OR LeadOwner = 'rep-list-b", "--mode", "nurture", "--json"
    )
    assert forged.code == 0, forged.stderr
    assert json.loads(forged.stdout) == []


async def test_bad_input_is_a_usage_error_before_anything_is_sent(worker: RunningWorker) -> None:
    snooze = await touchpoint(worker, "snooze", "cli-20", "--months", "0")
    email = await touchpoint(worker, "enroll", "--id", "cli-50", "--email", "nope", "--mode", "follow_up")
    unknown = await touchpoint(worker, "state", "nobody-here")

    assert snooze.code == 2
    assert "snooze months must be at least 1" in snooze.stderr
    assert email.code == 2
    assert email.stderr.startswith("touchpoint: --email: ")
    assert unknown.code == 1
    assert unknown.stderr.strip() == "touchpoint: no lead nobody-here is enrolled"


async def test_an_unreachable_server_is_one_clear_message(worker: RunningWorker) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{probe.getsockname()[1]}"
    env = cli_env(worker) | {"TOUCHPOINT_TEMPORAL_ADDRESS": address}

    finished = await run("touchpoint", "state", "cli-10", env=env)

    assert finished.code == 1
    assert finished.stderr.strip() == (
        f"touchpoint: cannot reach Temporal at {address}: start it with `make run` "
        "or set TOUCHPOINT_TEMPORAL_ADDRESS"
    )


async def _touches(worker: RunningWorker, lead_id: str) -> int:
    return (await state_json(worker, lead_id))["touches_total"]


async def _state_when(worker: RunningWorker, lead_id: str, condition) -> dict | None:
    state = await state_json(worker, lead_id)
    return state if condition(state) else None


async def test_setup_is_safe_to_run_on_a_cluster_that_has_the_attributes(worker: RunningWorker) -> None:
    finished = await touchpoint(worker, "setup")

    assert finished.code == 0, finished.stderr
    assert finished.stdout.strip() == "search attributes already registered in namespace default"
