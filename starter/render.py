"""Rich renderings of what the CLI shows: a lead's state, a list of leads.

Only ids, modes, steps and times are shown; LeadState carries no email, phone or name.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from starter.client import LeadSummary, RunStopped
from workflows.models import LeadState

# The newest rows are the ones a person acts on; the full history is in --json.
SHOW_TOUCHES = 10
SHOW_TRANSITIONS = 10
SHOW_REJECTED = 10


def when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment else "—"


def stopped_line(stopped: RunStopped) -> str:
    return (
        f"lead {stopped.lead_id}'s workflow {stopped.how} at {when(stopped.at)}: "
        "nothing runs for it, and the state shown is the last known"
    )


def state_view(state: LeadState, *, stopped: RunStopped | None = None) -> RenderableType:
    """`stopped`: the workflow ended without closing the lead, so `state` is its last known."""
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    facts.add_row("lead", Text(state.lead_id))
    if stopped:
        facts.add_row("workflow", Text(f"{stopped.how} at {when(stopped.at)}: last known state below", style="bold red"))
    facts.add_row("mode", Text(state.mode.value, style="cyan"))
    if state.cadence:
        facts.add_row("cadence", Text(state.cadence))
    facts.add_row("step", Text(state.step or "—"))
    next_touch = when(state.next_touch_at)
    if state.next_touch:
        next_touch += f" ({state.next_touch})"
    facts.add_row("next touch", Text(next_touch))
    facts.add_row("touches", Text(str(state.touches_total)))
    facts.add_row("transitions", Text(str(len(state.transitions))))
    facts.add_row("open tasks", Text(str(len(state.open_tasks))))
    if state.rejected_events:
        facts.add_row("rejected events", Text(str(len(state.rejected_events))))
    if state.snoozed_until:
        facts.add_row("snoozed until", Text(when(state.snoozed_until)))
    if state.pause_reason:
        until = f" (until {when(state.paused_until)})" if state.paused_until else ""
        facts.add_row("paused", Text(state.pause_reason + until))
    if state.outcome:
        facts.add_row("outcome", Text(state.outcome.value, style="bold"))
    parts: list[RenderableType] = [facts]
    if state.touches:
        touches = Table(title="touches (newest last)", title_justify="left")
        for column in ("step", "channel", "status", "sent at"):
            touches.add_column(column)
        for touch in state.touches[-SHOW_TOUCHES:]:
            touches.add_row(touch.step, touch.channel.value, touch.status, when(touch.sent_at))
        parts.append(touches)
    if state.transitions:
        transitions = Table(title="transitions (newest last)", title_justify="left")
        for column in ("from", "to", "reason", "at"):
            transitions.add_column(column)
        for change in state.transitions[-SHOW_TRANSITIONS:]:
            transitions.add_row(
                change.from_mode.value, change.to_mode.value, Text(change.reason), when(change.at)
            )
        parts.append(transitions)
    if state.open_tasks:
        tasks = Table(title="open rep tasks", title_justify="left")
        for column in ("task id", "kind", "title", "created"):
            tasks.add_column(column)
        for task in state.open_tasks:
            tasks.add_row(task.task_id, task.kind, Text(task.title), when(task.created_at))
        parts.append(tasks)
    if state.rejected_events:
        rejected = Table(title="rejected events (newest last)", title_justify="left")
        for column in ("signal", "event id", "error", "at"):
            rejected.add_column(column)
        # The workflow stores why an event was refused, never its values: safe to show.
        for event in state.rejected_events[-SHOW_REJECTED:]:
            rejected.add_row(event.signal, Text(event.event_id or "—"), Text(event.error), when(event.at))
        parts.append(rejected)
    return Group(*parts)


def leads_table(leads: Sequence[LeadSummary], *, closed: bool = False) -> Table:
    """`closed`: the leads are closed ones, so the table shows their outcome."""
    table = Table(title=f"{len(leads)} lead(s)", title_justify="left")
    columns = ["lead", "mode", "step", "next touch", "owner", "segment"]
    for column in [*columns, "outcome"] if closed else columns:
        table.add_column(column)
    for lead in leads:
        row = [
            lead.lead_id,
            lead.mode or "—",
            lead.step or "—",
            when(lead.next_touch_at),
            lead.owner or "—",
            lead.segment or "—",
        ]
        if closed:
            row.append(lead.outcome or "—")
        table.add_row(*row)
    return table
