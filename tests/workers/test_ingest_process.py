"""`touchpoint ingest` as a process: SIGKILLed mid-batch and restarted, it loses no event
and no event takes effect twice. Real dev server and lead workflows; SQS on moto."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio.worker import Worker

from starter.client import TouchpointClient
from tests.support.aws import queued
from tests.support.inbound_messages import BROWSER, ses_event, sns_envelope
from tests.support.privacy import privacy_env
from tests.workflows.fakes import Recorder
from workflows.lead import LeadWorkflow
from workflows.models import EnrollLead, Mode
from workflows.sandbox import workflow_runner

REGION = "us-east-1"
LEADS = 20
PIECES = 6  # human clicks per lead, each on its own piece: every one must count exactly once


def start_ingest(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "workers.ingest"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


async def test_ingest_killed_mid_batch_loses_nothing_and_applies_nothing_twice(aws, aws_client, tmp_path, dev_server):
    sqs = aws_client("sqs")
    events = sqs.create_queue(QueueName="kill-events", Attributes={"VisibilityTimeout": "2"})["QueueUrl"]
    dlq = sqs.create_queue(QueueName="kill-dlq")["QueueUrl"]
    clicked_at = datetime.now(UTC) - timedelta(days=1)

    task_queue = f"kill-{uuid.uuid4()}"
    async with Worker(dev_server.client, task_queue=task_queue, workflows=[LeadWorkflow],
                      activities=Recorder().activities(), workflow_runner=workflow_runner()):
        client = TouchpointClient(dev_server.client, task_queue=task_queue)
        lead_ids = [f"kill-{n:03d}" for n in range(LEADS)]
        for lead_id in lead_ids:
            await client.enroll(EnrollLead.model_validate(
                {"lead": {"id": lead_id, "email": f"{lead_id}@acme.example"}, "mode": "nurture"}
            ))
        bodies = []
        for lead_id in lead_ids:
            for piece in range(PIECES):
                record = ses_event(
                    "Click", lead_id=lead_id, send_key=f"{lead_id}:{piece + 1:05d}:piece-{piece}",
                    message_id=f"m-{lead_id}-{piece}", sent_at=clicked_at - timedelta(hours=1),
                    at=clicked_at + timedelta(minutes=piece),
                    click={"link": f"https://harborview.example/{piece}", "userAgent": BROWSER},
                )
                bodies.append(sns_envelope(record))
        # Each event twice: SQS and SNS deliver at least once.
        for body in bodies + bodies:
            sqs.send_message(QueueUrl=events, MessageBody=body)
        total = len(bodies) * 2

        process_env = {
            **os.environ,
            "TOUCHPOINT_TEMPORAL_ADDRESS": dev_server.client.service_client.config.target_host,
            "TOUCHPOINT_TASK_QUEUE": task_queue,
            "TOUCHPOINT_VAR_DIR": str(tmp_path / "var"),
            "TOUCHPOINT_LOG_FORMAT": "json",
            **privacy_env(),
            "TOUCHPOINT_INGEST": json.dumps({
                "region": REGION, "endpoint_url": aws, "events_queue_url": events,
                "dead_letter_queue_url": dlq, "wait_seconds": 1, "click_settle_seconds": 0,
                "report_every_seconds": 1,
                "verify_sns_signatures": False,  # moto's SNS does not sign with a real key
            }),
        }
        log = tmp_path / "ingest.log"
        kills = 0
        for threshold in (total * 3 // 4, total // 2):
            process = start_ingest(process_env, log)
            try:
                for _ in range(600):
                    if queued(sqs, events) <= threshold or process.poll() is not None:
                        break
                    await asyncio.sleep(0.02)
            finally:
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=10)
                kills += 1
        assert queued(sqs, events) > 0, "the kills came too late to interrupt anything"

        process = start_ingest(process_env, log)
        try:
            for _ in range(600):
                if queued(sqs, events) == 0:
                    break
                await asyncio.sleep(0.1)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)

        assert queued(sqs, events) == 0, log.read_text()[-3000:]
        states = [await client.state(lead_id) for lead_id in lead_ids]

    assert kills == 2
    assert queued(sqs, dlq) == 0
    for state in states:
        # Every click arrived (none lost), and each counted once (none applied twice).
        assert state.human_clicks == {f"piece-{piece}": 1 for piece in range(PIECES)}, state.lead_id
        assert state.mode == Mode.NURTURE
    assert process.returncode == 0, log.read_text()[-3000:]
