"""What `content` gives the worker: `load_cadence`."""

from collections.abc import Callable
from typing import Any

from activities.content.cadences import CadenceActivities, CadenceStore


def activities(store: CadenceStore) -> list[Callable[..., Any]]:
    return [CadenceActivities(store).load_cadence]
