"""Every activity the worker registers, assembled from each package's own registry.

The worker calls `load_and_check(config)` once at start (a broken cadence or template
stops it with a message saying what to fix), then registers `build_activities(...)`.
"""

from collections.abc import Callable
from typing import Any

from activities.content import registry as content
from activities.content.cadences import CadenceStore
from activities.content.templates import TemplateRenderer
from activities.content.touch import rehearse
from activities.delivery import registry as delivery
from activities.delivery.config import DeliveryConfig
from activities.windows import registry as windows


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
    """load_cadence, plan_send, send_email, send_sms and create_rep_task."""
    store = store or CadenceStore(config.cadences_dir)
    renderer = renderer or TemplateRenderer(config.templates_dir)
    return [
        *content.activities(store),
        *windows.activities(config.send_windows),
        *delivery.activities(config, renderer),
    ]
