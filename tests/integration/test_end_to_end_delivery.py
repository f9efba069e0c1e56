"""A lead on a real dev server, delivered through SES, SNS and SQS on moto.

The payment-failure sequence mixes every AWS channel: two emails (SES), one text
(SNS) and one call task (SQS), then the lead closes. Every touch must arrive once.
"""

import asyncio
import email
import json
import uuid
from email import policy

from activities.delivery.config import DeliveryConfig, SesConfig, SnsSmsConfig, SqsTaskQueueConfig
from activities.registry import build_activities
from activities.stores.config import LedgerConfig, StoresConfig
from starter.client import TouchpointClient
from tests.activities.delivery.test_sms_sns import moto_sms
from tests.support.email_support import CONFIGURATION_SET, sent_emails, set_up_sender
from workers.settings import Settings
from workers.worker import build_worker
from workflows.models import EnrollLead, Mode

REGION = "us-east-1"


async def test_a_lead_receives_its_touches_through_ses_sns_and_sqs_exactly_once(aws, aws_client, tmp_path, dev_server):
    set_up_sender(aws_client("sesv2"))
    sqs = aws_client("sqs")
    queue_url = sqs.create_queue(
        QueueName="rep-tasks.fifo", Attributes={"FifoQueue": "true"}
    )["QueueUrl"]
    config = DeliveryConfig(
        outbox_dir=tmp_path / "outbox",
        email_transport="ses",
        ses=SesConfig(region=REGION, configuration_set=CONFIGURATION_SET, endpoint_url=aws, check_suppression_list=False),
        sns_sms=SnsSmsConfig(region=REGION, endpoint_url=aws),
        tasks_queue=SqsTaskQueueConfig(queue_url=queue_url, region=REGION, endpoint_url=aws),
        token_secret="0123456789abcdef0123456789abcdef",
        unsubscribe_base_url="https://u.harborview.example",
    )
    stores = StoresConfig(ledger=LedgerConfig(path=tmp_path / "ledger.sqlite3"))
    queue = f"aws-{uuid.uuid4()}"
    activities = build_activities(delivery=config, stores=stores)
    async with build_worker(dev_server.client, Settings(), activities=activities, task_queue=queue):
        client = TouchpointClient(dev_server.client, task_queue=queue)
        await client.enroll(
            EnrollLead.model_validate(
                {
                    "lead": {"id": "pay-1", "email": "dana@acme.example", "first_name": "Dana",
                             "phone": "+13125550142", "sms_consent": True, "owner": "rep-1"},
                    "mode": "follow_up",
                    "follow_up_cadence": "dunning",
                    "context": {"amount": "$1,200", "invoice_id": "INV-7"},
                    "speedup": 864000,  # one day per 0.1 s
                }
            )
        )
        for _ in range(300):
            state = await client.state("pay-1")
            if state.mode == Mode.CLOSED:
                break
            await asyncio.sleep(0.1)

    assert state.mode == Mode.CLOSED, state.transitions
    assert [(t.channel.value, t.status) for t in state.touches] == [
        ("email", "sent"), ("email", "sent"), ("sms", "sent"), ("call_task", "task_created"),
    ]
    emails = [email.message_from_string(m["raw_data"], policy=policy.default) for m in sent_emails(aws)]
    assert len(emails) == 2
    assert len({m["X-Touchpoint-Send-Key"] for m in emails}) == 2
    assert all(m["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" for m in emails)
    assert emails[1]["In-Reply-To"]  # the reminder threads onto the first notice
    texts = moto_sms(aws)
    assert len(texts) == 1 and texts[0]["phone_number"] == "+13125550142"
    tasks = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    assert [json.loads(m["Body"])["kind"] for m in tasks] == ["call"]
