"""Activities: one module per outside system, each behind a small transport interface.

The worker calls `load_and_check(config)` once at start (a broken cadence or template
stops it with a message saying what to fix), then registers `build_activities(...)`.
"""

from collections.abc import Callable
from typing import Any

from activities.cadences import CadenceActivities, CadenceStore
from activities.config import DeliveryConfig
from activities.email import build_email_activities, build_ledger
from activities.send_windows import SendWindowActivities
from activities.sms import SmsActivities, SmsOutboxTransport
from activities.sms_aws import SnsSmsTransport
from activities.sqs_tasks import SqsTaskSink
from activities.tasks import JsonlTaskSink, RepTaskActivities
from activities.templates import TemplateRenderer
from activities.touch import rehearse


def load_and_check(config: DeliveryConfig) -> tuple[CadenceStore, TemplateRenderer]:
    """Load every cadence and compile and trial-render every template they use."""
    store = CadenceStore(config.cadences_dir)
    renderer = TemplateRenderer(config.templates_dir)
    renderer.check(store)
    rehearse(store, renderer, config)
    return store, renderer


def build_activities(
    config: DeliveryConfig,
    store: CadenceStore | None = None,
    renderer: TemplateRenderer | None = None,
) -> list[Callable[..., Any]]:
    """load_cadence, plan_send, send_email, send_sms and create_rep_task.

    Email goes through `config.email_transport`; SMS through SNS and rep tasks to SQS when
    those are configured, else to local files.
    """
    store = store or CadenceStore(config.cadences_dir)
    renderer = renderer or TemplateRenderer(config.templates_dir)
    sms = (
        SnsSmsTransport.from_config(config.sns_sms)
        if config.sns_sms
        else SmsOutboxTransport(config.sms_outbox_file)
    )
    sink = (
        SqsTaskSink.from_config(config.tasks_queue)
        if config.tasks_queue
        else JsonlTaskSink(config.tasks_file)
    )
    ledger = build_ledger(config)
    return [
        CadenceActivities(store).load_cadence,
        SendWindowActivities(config.send_windows).plan_send,
        build_email_activities(config, renderer, ledger).send_email,
        SmsActivities(renderer, sms, config, ledger=ledger).send_sms,
        RepTaskActivities(renderer, sink, config).create_rep_task,
    ]
