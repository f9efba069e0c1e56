"""`python -m tests.bench.ingest`: events per second through `touchpoint ingest`.

In one run, on one dev server and one worker (LeadWorkflow, activities mocked):
- baseline: the same delivery events signalled straight through TouchpointClient, one
  after another (what the consumer does per message, without SQS);
- ingest: the events as SNS-wrapped SES messages in a queue, drained by the
  `Ingestor`: receive 10, parse, signal the batch together, delete the batch;
- parsing alone: SES events and the reply corpus (parse, strip, classify) per second.

SQS is an in-process stand-in (`MemorySqs`: receive, delete, the calls the consumer
makes) so the figure is the consumer's and Temporal's, not moto's: moto's
ReceiveMessage scans and deep-copies the whole queue (~400 ms per call with 1,000
messages queued on this machine), which would swamp everything else. The consumer's
use of real SQS is covered by the tests against moto.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

from temporalio.worker import Worker

from activities.inbound.config import IngestConfig
from activities.inbound.consumer import Ingestor
from activities.inbound.replies import classify, parse_email, strip_reply
from activities.inbound.ses_events import parse_ses_event
from activities.stores.ledger import SqliteSendLedger
from starter.client import TouchpointClient
from tests.support.inbound_messages import ses_event, sns_envelope
from tests.support.servers import start_dev_server
from tests.workflows.fakes import Recorder
from workers.ingest import SignalSender
from workflows.lead import LeadWorkflow
from workflows.models import EnrollLead
from workflows.sandbox import workflow_runner

REGION = "us-east-1"
CORPUS = Path(__file__).parents[1] / "fixtures" / "replies"


class MemorySqs:
    """The four SQS calls the consumer makes, on one in-memory queue."""

    def __init__(self, bodies: list[str]) -> None:
        self._queued = [(str(n), body) for n, body in enumerate(bodies)]
        self._in_flight: dict[str, str] = {}

    def receive_message(self, *, MaxNumberOfMessages: int, **_: Any) -> dict[str, Any]:
        batch, self._queued = self._queued[:MaxNumberOfMessages], self._queued[MaxNumberOfMessages:]
        self._in_flight.update(batch)
        return {"Messages": [{"MessageId": key, "ReceiptHandle": key, "Body": body,
                              "Attributes": {"ApproximateReceiveCount": "1"}} for key, body in batch]}

    def delete_message_batch(self, *, Entries: list[dict[str, str]], **_: Any) -> dict[str, Any]:
        for entry in Entries:
            del self._in_flight[entry["ReceiptHandle"]]
        return {"Successful": [{"Id": e["Id"]} for e in Entries]}

    def delete_message(self, *, ReceiptHandle: str, **_: Any) -> None:
        del self._in_flight[ReceiptHandle]

    def send_message(self, **_: Any) -> None:
        raise AssertionError("nothing should be dead-lettered in the bench")


def _bodies(lead_ids: list[str], per_lead: int, tag: str) -> list[str]:
    return [
        sns_envelope(ses_event("Delivery", lead_id=lead_id, message_id=f"{tag}-{lead_id}-{n}",
                               send_key=f"{lead_id}:{n + 1:05d}:day-1-case-study"))
        for lead_id in lead_ids
        for n in range(per_lead)
    ]


def parse_rates(repeat: int = 5) -> dict[str, float]:
    bodies = _bodies([f"p-{n}" for n in range(100)], 10, "parse")
    started = time.perf_counter()
    for body in bodies:
        parse_ses_event(body)
    ses_rate = len(bodies) / (time.perf_counter() - started)
    mails = [path.read_bytes() for path in sorted(CORPUS.glob("*.eml"))]
    started = time.perf_counter()
    for _ in range(repeat):
        for raw in mails:
            email = parse_email(raw)
            classify(strip_reply(email.text), subject=email.subject, auto_headers=email.auto_headers,
                     today=date(2026, 11, 23))
    reply_rate = len(mails) * repeat / (time.perf_counter() - started)
    return {"ses_events_parsed_per_s": round(ses_rate), "replies_classified_per_s": round(reply_rate)}


async def measure(events: int, leads: int) -> dict[str, Any]:
    per_lead = max(1, events // leads)
    scratch = tempfile.TemporaryDirectory(prefix="ingest-bench-")
    try:
        async with await start_dev_server() as env:
            task_queue = f"bench-{uuid.uuid4()}"
            async with Worker(env.client, task_queue=task_queue, workflows=[LeadWorkflow],
                              activities=Recorder().activities(), workflow_runner=workflow_runner()):
                client = TouchpointClient(env.client, task_queue=task_queue)
                lead_ids = [f"bench-{n:04d}" for n in range(leads)]
                for lead_id in lead_ids:
                    await client.enroll(EnrollLead.model_validate(
                        {"lead": {"id": lead_id, "email": f"{lead_id}@acme.example"}, "mode": "nurture"}))

                direct = [json.loads(b) for b in _bodies(lead_ids, per_lead, "direct")]
                started = time.perf_counter()
                for body in direct:
                    event = parse_ses_event(json.dumps(body))
                    assert event.signal is not None
                    await client.delivery(event.signal.lead_id, event.signal.payload)
                baseline = len(direct) / (time.perf_counter() - started)

                bodies = _bodies(lead_ids, per_lead, "queued")
                ingestor = Ingestor(
                    IngestConfig(region=REGION, events_queue_url="https://sqs.bench/events",
                                 dead_letter_queue_url="https://sqs.bench/dlq", wait_seconds=0,
                                 verify_sns_signatures=False),  # the fixtures' envelopes are not signed
                    sqs=MemorySqs(bodies), send=SignalSender(client), ledger=SqliteSendLedger(Path(scratch.name) / "ledger.sqlite3"),
                    reply_secrets=[],
                )
                started = time.perf_counter()
                while await ingestor.poll("events"):
                    pass
                ingest = len(bodies) / (time.perf_counter() - started)
                assert ingestor.stats["signal_delivery"] == len(bodies), dict(ingestor.stats)
    finally:
        scratch.cleanup()
    return {
        "events": len(bodies),
        "leads": leads,
        "direct_signals_per_s": round(baseline, 1),
        "ingest_events_per_s": round(ingest, 1),
        "ratio": round(ingest / baseline, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.ingest", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--leads", type=int, default=100)
    args = parser.parse_args(argv)
    figures = {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        **asyncio.run(measure(args.events, args.leads)),
        **parse_rates(),
    }
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
