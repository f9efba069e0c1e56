"""What ops see of a lead in the Temporal Web UI: search attribute values and the
"current details" panel. Pure: LeadWorkflow publishes what these return.

Never an email address, phone number or name: search attributes and details are stored
unencrypted.
"""

from __future__ import annotations

from typing import Any

from temporalio.common import SearchAttributeUpdate

import workflows.search_attributes as sa
from workflows.models import Lead, LeadState

_UNSET = object()


def search_attributes(s: LeadState, lead: Lead) -> dict[str, Any]:
    """The search attribute values the lead should show now, by name (None: unset)."""
    return {
        sa.LEAD_MODE.name: s.mode.value,
        sa.LEAD_STEP.name: s.step,
        # The id alone, as the client sets it at enroll: one form to query by.
        sa.LEAD_CADENCE.name: s.cadence.split("@")[0] if s.cadence else None,
        sa.LEAD_OWNER.name: lead.owner,
        sa.LEAD_SEGMENT.name: lead.segment,
        sa.LEAD_NEXT_TOUCH_AT.name: s.next_touch_at,
        sa.LEAD_OUTCOME.name: s.outcome.value if s.outcome else None,
    }


def search_attribute_updates(published: dict[str, Any], wanted: dict[str, Any]) -> list[SearchAttributeUpdate[Any]]:
    """The upserts that turn the `published` values into the `wanted` ones."""
    keys = {key.name: key for key in sa.ALL}
    return [
        keys[name].value_set(value) if value is not None else keys[name].value_unset()
        for name, value in wanted.items()
        if published.get(name, _UNSET) != value
    ]


def details(s: LeadState) -> str:
    """The Web UI's "current details" panel (markdown)."""
    lines = [f"**{s.mode.value}**" + (f" · {s.cadence}" if s.cadence else "")]
    if s.next_touch_at:
        lines.append(f"next: {s.next_touch} at {s.next_touch_at:%Y-%m-%d %H:%M} UTC")
    if s.pause_reason:
        lines.append(f"paused: {s.pause_reason}")
    if s.outcome:
        lines.append(f"outcome: {s.outcome.value}")
    lines.append(f"touches sent: {s.touches_total}")
    if s.touches:
        last = s.touches[-1]
        lines.append(f"last: {last.step} ({last.channel.value}, {last.status}) at {last.sent_at:%Y-%m-%d %H:%M}")
    if s.open_tasks:
        lines.append(f"open rep tasks: {len(s.open_tasks)}")
    return "\n\n".join(lines)
