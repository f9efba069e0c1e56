"""What `windows` gives the worker: `plan_send` (run as a local activity)."""

from collections.abc import Callable
from typing import Any

from activities.windows.planner import SendWindowActivities
from workflows.send_window_models import SendWindowPolicy


def activities(policy: SendWindowPolicy) -> list[Callable[..., Any]]:
    return [SendWindowActivities(policy).plan_send]
