"""A lead's history holds no personal data in clear, and `touchpoint erase` erases it.

One lead goes through a touch, a reply, a rep task and a continue-as-new; its raw history
(every run, read by a client without the codec) is scanned for its email, names, phone,
company and reply text. Then `touchpoint export` writes what is held, `touchpoint erase`
destroys it, and the checks after say what is left: nothing readable.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.contrib.pydantic import pydantic_data_converter

from activities.privacy.codec import ENCODING, KeyErased, build_codec
from activities.privacy.config import PrivacyConfig
from activities.stores.ledger import SqliteSendLedger
from starter.privacy_commands import payloads_in
from tests.integration.helpers import Finished, RunningWorker, cli_env, eventually, outbox_files, run
from tests.support.privacy import TEST_KEYS, key_store_url

pytestmark = pytest.mark.integration

LEAD = "priv-0042"
WORKFLOW_ID = f"lead-{LEAD}"
PERSONAL = {
    "email": "dana.reyes@acme-freight.example",
    "first_name": "Danaquilla",
    "last_name": "Reyesworth",
    "phone": "+13125550199",  # not the other tests' number: erasing it suppresses it for the whole run
    "company": "Acme Freightways",
}
REPLY = "Call me on my cell, I have questions about dispatch"


async def touchpoint(worker: RunningWorker, *args: str) -> Finished:
    env = cli_env(worker) | {"TOUCHPOINT_VAR_DIR": str(worker.outbox.parent)}
    return await run("touchpoint", *args, env=env)


def rep_tasks(worker: RunningWorker) -> list[dict]:
    path = worker.outbox.parent / "rep-tasks.jsonl"
    if not path.is_file():
        return []
    return [record for line in path.read_text().splitlines() if (record := json.loads(line))["lead_id"] == LEAD]


async def raw_histories(worker: RunningWorker) -> list[bytes]:
    """Every run's history as the server holds it, read by a client without the codec."""
    plain = await Client.connect(worker.address, data_converter=pydantic_data_converter)
    histories = []
    async for execution in plain.list_workflows(f"WorkflowId = '{WORKFLOW_ID}'"):
        history = await plain.get_workflow_handle(WORKFLOW_ID, run_id=execution.run_id).fetch_history()
        payloads = [payload for event in history.events for payload in payloads_in(event)]
        # In clear by design: search attributes (ids only) and the SDK's patch markers; the rest is ciphertext.
        clear = [p.data for p in payloads if p.metadata.get("encoding") != ENCODING]
        assert len(clear) < len(payloads)
        assert all(len(data) < 200 for data in clear)
        histories.append(b"".join(event.SerializeToString() for event in history.events))
    return histories


async def test_a_leads_history_holds_nothing_in_clear_and_erase_leaves_nothing_readable(
    worker: RunningWorker, tmp_path: Path
) -> None:
    enrolled = await touchpoint(
        worker, "enroll", "--id", LEAD, "--email", PERSONAL["email"], "--first-name", PERSONAL["first_name"],
        "--last-name", PERSONAL["last_name"], "--phone", PERSONAL["phone"], "--company", PERSONAL["company"],
        "--owner", "rep-7", "--mode", "follow_up", "--speedup", "86400",
    )  # fmt: skip
    assert enrolled.code == 0, enrolled.stderr
    await eventually(lambda: outbox_files(worker.outbox, LEAD), what="the first touch")
    replied = await touchpoint(worker, "reply", LEAD, "--text", REPLY)
    assert replied.code == 0, replied.stderr
    await eventually(lambda: rep_tasks(worker), what="the rep task for the reply")
    moved = await touchpoint(worker, "move", LEAD, "--to", "nurture", "--reason", "not this quarter")
    assert moved.code == 0, moved.stderr
    histories = await eventually(lambda: _at_least_two_runs(worker), what="a continue-as-new after the move")

    # 1. The raw history: none of the personal data, in any run, anywhere in the bytes.
    for raw in histories:
        for value in [*PERSONAL.values(), REPLY, PERSONAL["email"].split("@")[0]]:
            assert value.encode() not in raw and value.lower().encode() not in raw.lower()

    # 2. Export before erase: everything held, decoded.
    exported_file = tmp_path / "export.json"
    exported = await touchpoint(worker, "export", LEAD, "--out", str(exported_file))
    assert exported.code == 0, exported.stderr
    text = exported_file.read_text()
    for value in [*PERSONAL.values(), REPLY]:
        assert value in text
    export = json.loads(text)
    ledger = SqliteSendLedger(worker.outbox.parent / "send-ledger.sqlite3")
    assert export["send_ledger"] == json.loads(json.dumps(ledger.lead_rows(LEAD)))
    assert [email["file"] for email in export["local_files"]["emails"]] == [
        p.name for p in outbox_files(worker.outbox, LEAD)
    ]
    assert len(export["temporal"]) >= 2 and export["local_files"]["rep_tasks"] == rep_tasks(worker)

    # 3. Erase.
    erased = await touchpoint(worker, "erase", LEAD, "--yes", "--by", "dpo@harborview.example")
    assert erased.code == 0, erased.stderr
    print(erased.stdout)
    assert "closed as erased" in erased.stdout and "data key destroyed" in erased.stdout

    # The history can no longer be decoded, by any process (a fresh codec: no cached key).
    fresh = build_codec(PrivacyConfig(payload_keys=TEST_KEYS), database_url=key_store_url())
    plain = await Client.connect(worker.address, data_converter=pydantic_data_converter)
    history = await plain.get_workflow_handle(WORKFLOW_ID).fetch_history()
    encrypted = [p for e in history.events for p in payloads_in(e) if p.metadata.get("encoding") == ENCODING]
    assert encrypted
    with pytest.raises(KeyErased):
        await fresh.decode(encrypted[:1])
    description = await worker.client.get_workflow_handle(WORKFLOW_ID).describe()
    assert description.status == WorkflowExecutionStatus.COMPLETED
    assert (
        description.raw_description.workflow_execution_info.search_attributes.indexed_fields["LeadOutcome"].data
        == b'"erased"'
    )
    # The stores hold nothing of the lead.
    assert ledger.lead_rows(LEAD) == []
    assert outbox_files(worker.outbox, LEAD) == [] and rep_tasks(worker) == []
    # The same person under another id is refused; nothing is started.
    again = await touchpoint(worker, "enroll", "--id", "priv-0043", "--email", PERSONAL["email"], "--mode", "nurture")
    assert again.code == 1 and "erased" in again.stderr and PERSONAL["email"] not in again.stderr


async def _at_least_two_runs(worker: RunningWorker) -> list[bytes] | None:
    histories = await raw_histories(worker)
    return histories if len(histories) >= 2 else None
