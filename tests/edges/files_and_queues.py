"""The CSV import (the touchpoint CLI on a file) and the ingest queues (SQS on moto, read
by the real consumer; Temporal replaced by a recording sender)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.activities.inbound.ingest_queues import Queues, drain, fresh_queues
from tests.edges.entries import Target, bounded, cli_env, run
from tests.edges.verdicts import Verdict, cases
from tests.support.inbound_messages import ses_event, sns_envelope
from workflows import names


async def csv_imports(target: Target, tmp: Path) -> list[Verdict]:
    """`touchpoint enroll --csv FILE`: a file that cannot be read is one line and exit 2;
    a bad row is reported by its line, and every good row is enrolled all the same."""

    async def one(number: int, case: dict[str, Any]) -> Verdict:
        entry, name = "touchpoint enroll --csv", case["case"]
        path = tmp / f"leads-{number}.csv"
        path.write_bytes(base64.b64decode(case["base64"]) if "base64" in case else case["text"].encode())
        ran = await run("touchpoint", "enroll", "--csv", str(path), env=cli_env(target, tmp))
        if "Traceback" in ran.stderr + ran.stdout:
            return Verdict(entry, name, "crash", ran.stderr)
        if "file_error" in case:
            message = ran.stderr.strip()
            clear = ran.code == 2 and "\n" not in message and case["file_error"] in message
            return Verdict(entry, name, "clear" if clear else "unclear", f"exit {ran.code}: {message}")
        reported = dict(re.findall(r"^  line (\d+): (.*)$", ran.stdout, flags=re.MULTILINE))
        missing = [line for line, words in case["rows"].items() if words not in reported.get(line, "")]
        if ran.code != 1 or missing or set(reported) != set(case["rows"]):
            return Verdict(entry, name, "unclear", f"exit {ran.code}, lines {missing} not as expected: {ran.stdout}")
        for lead_id in case["good"]:
            description = await target.client.get_workflow_handle(names.workflow_id(lead_id)).describe()
            if description.task_queue != target.task_queue:
                return Verdict(entry, name, "lost", f"good row {lead_id} not enrolled")
        return Verdict(entry, name, "clear", ran.stdout.strip())

    return await bounded(one(n, case) for n, case in enumerate(cases("csv")))


def queue_cases() -> list[tuple[str, str, str]]:
    """(case, queue, body): messages another system could put on an ingest queue."""
    deep = "[" * 100_000 + "]" * 100_000
    event = ses_event("Delivery", message_id="m-bad")
    no_mail = {k: v for k, v in event.items() if k != "mail"}
    return [
        ("not JSON", "events", "delivered, probably"),
        ("nested too deeply", "events", deep),
        ("an SNS envelope around nested JSON", "events", sns_envelope(deep)),
        ("an SNS envelope around text", "events", sns_envelope("hello")),
        ("a JSON array", "events", json.dumps([1, 2, 3])),
        ("an SNS envelope without its message", "events", json.dumps({"Type": "Notification", "MessageId": "x"})),
        ("an SES event without mail", "events", sns_envelope(no_mail)),
        ("an SES event of an unknown type", "events", sns_envelope({**event, "eventType": "Teleport"})),
        ("an SES event with a bad lead id tag", "events", sns_envelope(ses_event("Click", lead_id="no such lead!"))),
        ("a reply notification that is not JSON", "replies", "From: someone"),
        ("a reply notification without content", "replies", sns_envelope({"notificationType": "Received"})),
        ("an SMS that is not JSON", "sms", "STOP"),
        ("an SMS without an originating number", "sms", sns_envelope({"messageBody": "STOP"})),
    ]


def valid_neighbour(queue: str, tag: str) -> str | None:
    """A valid event to send before and after the bad one (events only; the reply and SMS
    queues' valid messages need a lead and a ledger, covered by the consumer's own tests)."""
    return sns_envelope(ses_event("Delivery", message_id=f"m-{tag}")) if queue == "events" else None


async def ingest_messages(moto_endpoint: str, tmp: Path) -> list[Verdict]:
    verdicts = []
    with pytest.MonkeyPatch.context() as patch:
        for number, (case, queue, body) in enumerate(queue_cases()):
            (tmp / f"q{number}").mkdir(exist_ok=True)
            queues = fresh_queues(moto_endpoint, patch, tmp / f"q{number}")
            verdicts.append(await _one_message(queues, case, queue, body))
    return verdicts


async def _one_message(queues: Queues, case: str, queue: str, body: str) -> Verdict:
    entry = "ingest queue (SQS)"
    before, after = valid_neighbour(queue, "before"), valid_neighbour(queue, "after")
    for message in (before, body, after):
        if message is not None:
            queues.put(queue, message)
    ingestor = queues.ingestor()
    try:
        await drain(ingestor, queue)
    except Exception as error:  # noqa: BLE001 - an exception out of the consumer is what this counts
        return Verdict(entry, case, "crash", f"{type(error).__name__}: {error}")
    if queues.left(queue):
        return Verdict(entry, case, "stuck", "still on the queue after draining")
    signalled = {
        s.payload.get("event_id", "").split(":")[1] for s in queues.sent.signals if ":" in s.payload.get("event_id", "")
    }
    expected = {tag for tag, message in (("m-before", before), ("m-after", after)) if message is not None}
    if not expected <= signalled:
        return Verdict(entry, case, "lost", f"the valid events beside it were not delivered: {sorted(signalled)}")
    reasons = queues.reasons()
    if len(reasons) != 1:
        return Verdict(entry, case, "lost", f"not dead-lettered (dead letters: {reasons}, stats: {ingestor.stats})")
    reason = reasons[0]
    if "Traceback" in reason or len(reason) < 15:
        return Verdict(entry, case, "unclear", reason)
    return Verdict(entry, case, "clear", reason)
