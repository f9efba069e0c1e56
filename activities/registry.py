"""Every activity the worker registers, assembled from each package's own registry.

The worker calls `load_and_check(content)` once at start (a broken cadence or template
stops it with a message saying what to fix), then registers `build_activities(...)`.
Each concern's settings default to its model's defaults.
"""

from collections.abc import Callable
from typing import Any

from activities.content import registry as content_activities
from activities.content.cadences import CadenceStore
from activities.content.config import ContentConfig
from activities.content.templates import TemplateRenderer
from activities.content.touch import rehearse
from activities.delivery import registry as delivery_activities
from activities.delivery.config import DeliveryConfig
from activities.stores.config import StoresConfig
from activities.windows import registry as windows_activities
from activities.windows.config import WindowsConfig


def load_and_check(content: ContentConfig) -> tuple[CadenceStore, TemplateRenderer]:
    """Load every cadence and compile and trial-render every template they use."""
    store = CadenceStore(content.cadences_dir)
    renderer = TemplateRenderer(content.templates_dir)
    renderer.check(store)
    rehearse(store, renderer, content)
    return store, renderer


def build_activities(
    *,
    content: ContentConfig | None = None,
    delivery: DeliveryConfig | None = None,
    stores: StoresConfig | None = None,
    windows: WindowsConfig | None = None,
    store: CadenceStore | None = None,
    renderer: TemplateRenderer | None = None,
) -> list[Callable[..., Any]]:
    """load_cadence, plan_send, send_email, send_sms and create_rep_task."""
    content = content or ContentConfig()
    store = store or CadenceStore(content.cadences_dir)
    renderer = renderer or TemplateRenderer(content.templates_dir)
    return [
        *content_activities.activities(store),
        *windows_activities.activities((windows or WindowsConfig()).policy()),
        *delivery_activities.activities(content, delivery or DeliveryConfig(), stores or StoresConfig(), renderer),
    ]
