"""Activities: one module per outside system, each behind a small transport interface.

The worker calls `load_and_check(config)` once at start (a broken cadence or template
stops it with a message saying what to fix), then registers `build_activities(...)`.
"""

from collections.abc import Callable
from typing import Any

from activities.cadences import CadenceActivities, CadenceStore
from activities.config import DeliveryConfig
from activities.email import EmailActivities, OutboxTransport
from activities.sms import SmsActivities, SmsOutboxTransport
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
    """load_cadence, send_email, send_sms and create_rep_task, bound to the local transports."""
    store = store or CadenceStore(config.cadences_dir)
    renderer = renderer or TemplateRenderer(config.templates_dir)
    return [
        CadenceActivities(store).load_cadence,
        EmailActivities(renderer, OutboxTransport(config.outbox_dir), config).send_email,
        SmsActivities(renderer, SmsOutboxTransport(config.sms_outbox_file), config).send_sms,
        RepTaskActivities(renderer, JsonlTaskSink(config.tasks_file), config).create_rep_task,
    ]
