"""What `delivery` gives the worker: `send_email`, `send_sms` and `create_rep_task`.

Email goes through `config.email_transport`; SMS through SNS and rep tasks to SQS when
those are configured, else to local files. All three share one send ledger.
"""

from collections.abc import Callable
from typing import Any

from activities.content.config import ContentConfig
from activities.content.templates import TemplateRenderer
from activities.delivery.config import DeliveryConfig
from activities.delivery.email import build_email_activities
from activities.delivery.rep_tasks import JsonlTaskSink, RepTaskActivities
from activities.delivery.sms import SmsActivities, SmsOutboxTransport
from activities.delivery.sns_sms import SnsSmsTransport
from activities.delivery.sqs_tasks import SqsTaskSink
from activities.stores.config import StoresConfig
from activities.stores.ledger import build_ledger


def activities(
    content: ContentConfig, config: DeliveryConfig, stores: StoresConfig, renderer: TemplateRenderer
) -> list[Callable[..., Any]]:
    sms = SnsSmsTransport.from_config(config.sns_sms) if config.sns_sms else SmsOutboxTransport(config.sms_outbox_file)
    sink = SqsTaskSink.from_config(config.tasks_queue) if config.tasks_queue else JsonlTaskSink(config.tasks_file)
    ledger = build_ledger(stores.ledger, beside=config.outbox_dir)
    return [
        build_email_activities(content, config, stores, renderer, ledger).send_email,
        SmsActivities(renderer, sms, content, ledger=ledger).send_sms,
        RepTaskActivities(renderer, sink, content).create_rep_task,
    ]
