"""Email on its own task queue, at the provider's rate across every worker process."""

import asyncio
import uuid

from activities.delivery.config import DeliveryConfig
from activities.registry import build_activities
from starter.client import TouchpointClient
from workers.settings import Settings
from workers.worker import build_email_worker, build_worker
from workflows.models import Mode

RATE = 4.0


async def test_emails_go_through_the_email_queue_no_faster_than_its_rate(tmp_path, dev_server):
    settings = Settings(TOUCHPOINT_EMAIL_TASK_QUEUE=f"email-{uuid.uuid4()}", TOUCHPOINT_EMAIL_RATE_PER_SECOND=RATE)
    delivery = DeliveryConfig(outbox_dir=tmp_path / "outbox", tasks_file=tmp_path / "t.jsonl",
                              sms_outbox_file=tmp_path / "s.jsonl")
    activities = build_activities(delivery=delivery)
    queue = f"leads-{uuid.uuid4()}"
    async with (
        build_worker(dev_server.client, settings, activities=activities, task_queue=queue),
        build_email_worker(dev_server.client, settings, activities=activities, rate_per_second=RATE),
    ):
        email_queue = settings.connection.email_task_queue
        client = TouchpointClient(dev_server.client, task_queue=queue, email_task_queue=email_queue)
        ids = [f"rate-{n}" for n in range(12)]
        for lead_id in ids:
            await client.enroll({"lead": {"id": lead_id, "email": f"{lead_id}@acme.example"},
                                 "mode": "follow_up", "follow_up_cadence": "dunning", "speedup": 8640000})
        for _ in range(600):
            states = [await client.state(lead_id) for lead_id in ids]
            if all(s.mode == Mode.CLOSED for s in states):
                break
            await asyncio.sleep(0.1)

    sent = sorted(t.sent_at for s in states for t in s.touches if t.channel.value == "email")
    assert len(sent) == 24 and len(list((tmp_path / "outbox").glob("*.eml"))) == 24
    measured = (len(sent) - 1) / (sent[-1] - sent[0]).total_seconds()
    print(f"email queue: {len(sent)} emails at {measured:.2f}/s through a {RATE}/s limit")
    # An upper bound only: a slow machine can be slower, never faster than the limit.
    assert measured <= RATE * 1.25, f"{measured:.2f} emails/s through a {RATE}/s queue"
