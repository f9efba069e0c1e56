"""LeadMachine: one lead's state and every synchronous change to it, for LeadWorkflow.

LeadWorkflow (`workflows/lead.py`) waits, runs activities and publishes; what its main
loop and its signal and update handlers change in between is done here, along with
the validators' checks.

Why a module of its own: the sandbox loads a workflow's own module afresh for every
run it keeps cached, code objects and all, while a module imported under
`workflow.unsafe.imports_passed_through()` is loaded once per worker. In
`workflows/lead.py` this code cost memory once per cached lead. Two consequences:

- It is workflow code all the same, but the sandbox does not check it: time only from
  `workflow.now()`, logs only through `workflow.logger`, no I/O, no randomness, and a
  `workflow.patched` call stays where it is. The replay tests (`tests/replay`) catch
  a change that would break leads already running.
- No module-level mutable state: every run of every lead shares this module.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Callable

from pydantic import ValidationError
from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError

import workflows.cadence as rules
import workflows.names as names
import workflows.search_attributes as sa
from workflows.models import (
    CadenceDefinition,
    CadenceStep,
    Channel,
    CloseInput,
    CompleteTaskInput,
    DeliveryEvent,
    EngagementEvent,
    EnrollLead,
    LeadMemory,
    LeadState,
    Mode,
    MoveInput,
    Outcome,
    PauseInput,
    RejectedEvent,
    ReplyEvent,
    RepTask,
    RepTaskInput,
    ResumeInput,
    SnoozeInput,
    TouchInput,
    TouchRecord,
    TouchResult,
    TransitionRecord,
    TriggerEvent,
)
from workflows.send_window_models import (
    PlannedSend,
    PlanSendInput,
    region_from_attributes,
)

# Bounded lists keep the state (and the continue-as-new input) small for years.
KEEP_TOUCHES = 50
KEEP_TRANSITIONS = 50
KEEP_REJECTED = 20
KEEP_DONE_TASKS = 20
KEEP_SEEN_EVENTS = 2000
KEEP_CLICKED_PIECES = 100
HOLDING_MODES = (Mode.PAUSED, Mode.AWAITING_REP)


class CommandRejected(ApplicationError):
    """Raised by update validators; the caller sees the message and nothing changes."""

    def __init__(self, message: str) -> None:
        super().__init__(message, type="CommandRejected", non_retryable=True)


class LeadMachine:
    """The lead's state (`m`, handed to the next run on continue-as-new; `s`, what the
    `state` query returns) and the transitions on it. `version` goes up with every
    change a waiting main loop must notice."""

    def __init__(self, input: EnrollLead) -> None:
        self.input = input
        self.lead = input.lead
        if input.memory is not None:
            self.m = input.memory
            self.m.state.run += 1
        else:
            self.m = LeadMemory(state=LeadState(lead_id=input.lead.id, mode=Mode(input.mode)))
        self.s = self.m.state
        self.version = 0
        self.touches_this_run = 0
        self.events_this_run = 0
        self._seen = set(self.m.seen_event_ids)

    # --------------------------------------------------------------- cadences

    def cadence(self, mode: Mode) -> CadenceDefinition:
        cadence = self.m.follow_up if mode == Mode.FOLLOW_UP else self.m.nurture
        assert cadence is not None, "cadences are loaded before a cadence mode runs"
        return cadence

    def begin(self, mode: Mode) -> None:
        """Schedule the first touch of a fresh pass through `mode`'s cadence."""
        now = workflow.now()
        if mode == Mode.FOLLOW_UP:
            self.m.step_index = 0
            gap = rules.sequence_gap(self.cadence(mode), 0)
        else:
            gap = rules.rotation_gap(self.cadence(mode), now)
        self.m.due_at = now + rules.scaled(gap, self.input.speedup)
        self.refresh()

    def current_step(self, mode: Mode) -> tuple[CadenceStep, str]:
        cadence = self.cadence(mode)
        if mode == Mode.FOLLOW_UP:
            step = cadence.steps[self.m.step_index]
            return step, rules.step_label(cadence, step)
        step = rules.rotation_step(cadence, self.m.nurture_rotation)
        return step, rules.step_label(cadence, step, self.m.nurture_rotation)

    def check_in_step(self) -> CadenceStep:
        nurture = self.cadence(Mode.NURTURE)
        return nurture.check_in or rules.rotation_step(nurture, self.m.nurture_rotation)

    def schedule_next(self, mode: Mode, cadence: CadenceDefinition) -> None:
        """After `mode`'s current step was sent: due time of the next one, or the end of
        the sequence."""
        sent_due = self.m.due_at or workflow.now()
        if mode == Mode.FOLLOW_UP:
            self.m.step_index += 1
            finished = self.m.step_index >= len(cadence.steps)
            gap = timedelta(0) if finished else rules.sequence_gap(cadence, self.m.step_index)
        else:
            self.m.nurture_rotation += 1
            finished = False
            gap = rules.rotation_gap(cadence, sent_due)
        wait = rules.scaled(gap, self.input.speedup)
        if self.s.mode != mode:
            # A command arrived while the touch was in flight. If it only paused the
            # lead, resuming must wait the full gap to the next step, not send at once.
            if self.m.resume_mode == mode and not finished:
                self.m.remaining_seconds = wait.total_seconds()
            return
        self.m.due_at = sent_due + wait
        if finished:
            self.finish_sequence()
        self.refresh()

    def finish_sequence(self) -> None:
        cadence = self.cadence(Mode.FOLLOW_UP)
        reason = f"{cadence.id} finished with no reply"
        if cadence.after_last_step == "nurture":
            self.set_mode(Mode.NURTURE, reason)
            self.begin(Mode.NURTURE)
        else:
            self.set_mode(Mode.CLOSED, reason)

    def checked_in(self) -> None:
        """The check-in after a snooze was sent: the lead goes on in nurture."""
        if self.s.mode == Mode.SNOOZED:
            self.set_mode(Mode.NURTURE, "snooze ended: check-in sent")
            self.begin(Mode.NURTURE)

    def plan_send_input(self, step: CadenceStep, due: datetime) -> PlanSendInput:
        attributes = self.lead.attributes
        return PlanSendInput(
            lead_id=self.lead.id,
            send_key=names.send_key(self.lead.id, self.m.touch_seq + 1, step.key),
            channel=step.channel,
            due_at=due,
            lead_timezone=self.lead.timezone,
            country=str(attributes["country"]) if attributes.get("country") else None,
            region=region_from_attributes(attributes),
        )

    def planned(self, key: str, planned: PlannedSend) -> None:
        self.m.planned_for, self.m.send_at, self.m.send_label = key, planned.send_at, planned.label
        self.refresh()

    # ---------------------------------------------------------------- touches

    def touch_input(self, cadence: CadenceDefinition, step: CadenceStep, seq: int) -> TouchInput:
        # Follow-ups after the first reply in the same email thread (the transport
        # decides, by its settings, whether to set In-Reply-To/References).
        threads = (
            step.thread
            and cadence.mode == "follow_up"
            and self.m.step_index > 0
            and step.channel == Channel.EMAIL
        )
        return TouchInput(
            send_key=names.send_key(self.lead.id, seq, step.key),
            lead=self.lead,
            context=self.input.context,
            cadence=cadence.ref,
            mode=cadence.mode,
            step=step,
            thread_with=self.m.last_email_message_id if threads else None,
        )

    def record(
        self, cadence: CadenceDefinition, step: CadenceStep, touch: TouchInput, result: TouchResult, seq: int
    ) -> bool:
        if step.channel == Channel.EMAIL and result.status == "sent" and result.message_id:
            self.m.last_email_message_id = result.message_id
        self.m.touch_seq = seq
        self.m.last_touch_step = step.key
        self.touches_this_run += 1
        self.s.touches_total += 1
        self.s.touches = bounded(
            [
                *self.s.touches,
                TouchRecord(
                    step=step.key,
                    channel=step.channel,
                    sent_at=workflow.now(),
                    cadence=cadence.ref,
                    send_key=touch.send_key,
                    status=result.status,
                    detail=result.detail,
                ),
            ],
            KEEP_TOUCHES,
        )
        workflow.logger.info("touch %s: %s %s", result.status, step.channel.value, step.key)
        outcome = rules.suppression_outcome(result.status, result.detail)
        if outcome is not None and self.s.mode != Mode.CLOSED:
            self.set_mode(Mode.CLOSED, f"address suppressed ({result.detail})", outcome)
        return True

    def rep_task(self, touch: TouchInput) -> RepTaskInput:
        """The rep task a call or LinkedIn step creates instead of sending."""
        channel = touch.step.channel
        return RepTaskInput(
            task_id=touch.send_key,
            kind="call" if channel == Channel.CALL_TASK else "linkedin",
            lead_id=self.lead.id,
            owner=self.lead.owner,
            title=touch.step.purpose,
            touch=touch,
        )

    def open_task(self, task: RepTaskInput) -> None:
        self.s.open_tasks.append(
            RepTask(task_id=task.task_id, kind=task.kind, title=task.title, created_at=workflow.now())
        )

    def queue_task(self, title: str, note: str = "") -> None:
        self.m.task_seq += 1
        task = RepTaskInput(
            task_id=f"{self.lead.id}:task-{self.m.task_seq}",
            kind="reply",
            lead_id=self.lead.id,
            owner=self.lead.owner,
            title=title,
            note=note,
        )
        self.m.pending_tasks.append(task)
        self.open_task(task)

    # ------------------------------------------------------------ transitions

    def set_mode(self, to: Mode, reason: str, outcome: Outcome | None = None) -> None:
        previous = self.s.mode
        if to != Mode.PAUSED:
            self.s.pause_reason = None
            self.s.paused_until = None
        if to not in (Mode.SNOOZED, *HOLDING_MODES):
            # Kept while held, so resuming a snoozed lead waits out the rest of its snooze.
            self.s.snoozed_until = None
        if to not in HOLDING_MODES:
            self.m.resume_mode = None
            self.m.remaining_seconds = None
        if to not in rules.CADENCE_MODES:
            self.m.due_at = None
        self.m.last_email_message_id = None  # a new mode starts a new thread
        if to == Mode.CLOSED:
            self.s.outcome = outcome
        self.s.mode = to
        self.s.transitions = bounded(
            [
                *self.s.transitions,
                TransitionRecord(from_mode=previous, to_mode=to, reason=reason, at=workflow.now()),
            ],
            KEEP_TRANSITIONS,
        )
        self.version += 1
        self.refresh()

    def hold(self, to: Mode, reason: str, *, until: datetime | None = None) -> None:
        """Stop automation (paused or awaiting a rep), remembering where to come back to."""
        current = self.s.mode
        if current in rules.CADENCE_MODES:
            self.m.resume_mode = current
            due = self.m.due_at
            self.m.remaining_seconds = (
                max(0.0, (due - workflow.now()).total_seconds()) if due else None
            )
        elif current == Mode.SNOOZED:
            self.m.resume_mode = Mode.SNOOZED
        resume_mode, remaining = self.m.resume_mode, self.m.remaining_seconds
        self.set_mode(to, reason)
        self.m.resume_mode, self.m.remaining_seconds = resume_mode, remaining
        if to == Mode.PAUSED:
            self.s.pause_reason = reason
            self.s.paused_until = until
        self.refresh()

    def resume(self, reason: str) -> None:
        to = self.m.resume_mode or Mode.NURTURE
        remaining = self.m.remaining_seconds
        snoozed_until = self.s.snoozed_until
        self.set_mode(to, reason)
        if to in rules.CADENCE_MODES:
            # Keep the spacing the lead had: the wait left when it stopped, no burst.
            self.m.due_at = (
                workflow.now() + timedelta(seconds=remaining) if remaining is not None else None
            )
        elif to == Mode.SNOOZED:
            self.s.snoozed_until = snoozed_until
        self.refresh()

    def enter(self, to: Mode, reason: str) -> None:
        """Start a fresh pass of follow-up or nurture (move, trigger, interest)."""
        if to == Mode.FOLLOW_UP:
            self.s.human_clicks = {}
        self.set_mode(to, reason)
        self.m.due_at = None
        if self.m.follow_up is not None and self.m.nurture is not None:
            self.begin(to)

    def apply(self, effect: rules.Effect, note: str = "") -> None:
        if effect.rep_task:
            self.queue_task(effect.rep_task, note)
        if effect.to == Mode.CLOSED:
            self.set_mode(Mode.CLOSED, effect.reason, effect.outcome)
        elif effect.to == Mode.FOLLOW_UP:
            self.enter(Mode.FOLLOW_UP, effect.reason)
        elif effect.to == Mode.SNOOZED and effect.until is not None:
            self.snooze_until(self.local_morning(effect.until), effect.reason)
        elif effect.to == Mode.PAUSED and effect.until is not None:
            self.hold(Mode.PAUSED, effect.reason, until=self.scaled_end(self.local_morning(effect.until)))
        elif effect.to is not None:
            self.hold(effect.to, effect.reason)
        else:
            workflow.logger.info("event: %s", effect.reason)
        self.version += 1

    def snooze_until(self, end: datetime, reason: str) -> None:
        self.hold(Mode.SNOOZED, reason)
        self.s.snoozed_until = self.scaled_end(end)
        self.m.resume_mode = None
        self.m.remaining_seconds = None
        self.refresh()

    def local_morning(self, day: date) -> datetime:
        """9:00 on `day` in the lead's zone: when a pause or snooze ending that day ends."""
        return rules.pause_end(day, self.lead.timezone) or workflow.now()

    def scaled_end(self, end: datetime) -> datetime:
        now = workflow.now()
        return now + rules.scaled(end - now, self.input.speedup)

    # ----------------------------------------------------------------- events

    def receive(self, signal: str, raw: Any, model: type[Any], handle: Callable[[Any], None]) -> None:
        """Validate, deduplicate by event_id, then apply. An invalid event is kept in
        the state with its error (never silently dropped); a repeated one does nothing."""
        try:
            event = raw if isinstance(raw, model) else model.model_validate(raw)
        except ValidationError as err:
            event_id = raw.get("event_id") if isinstance(raw, dict) else None
            self.s.rejected_events = bounded(
                [
                    *self.s.rejected_events,
                    RejectedEvent(
                        signal=signal,
                        event_id=str(event_id) if event_id is not None else None,
                        error=short_error(err),
                        at=workflow.now(),
                    ),
                ],
                KEEP_REJECTED,
            )
            workflow.logger.warning("rejected %s event %s: %s", signal, event_id, short_error(err))
            return
        key = f"{signal}:{event.event_id}"
        if key in self._seen:
            return
        self._seen.add(key)
        self.m.seen_event_ids.append(key)
        if len(self.m.seen_event_ids) > KEEP_SEEN_EVENTS:
            self._seen.discard(self.m.seen_event_ids.pop(0))
        self.events_this_run += 1
        if self.s.mode == Mode.CLOSED:
            workflow.logger.info("%s event %s after close: recorded only", signal, event.event_id)
            return
        handle(event)

    def on_reply(self, event: ReplyEvent) -> None:
        nurture = self.m.nurture
        after_check_in = bool(
            nurture and nurture.check_in and self.m.last_touch_step == nurture.check_in.key
        )
        until = event.until
        if until is not None:
            problem = rules.reply_until_problem(self.local_morning(until), workflow.now())
            if problem is not None:
                workflow.logger.info("reply %s: date ignored, %s", event.event_id, problem)
                until = None
        effect = rules.reply_effect(
            self.s.mode,
            event.intent,
            after_check_in=after_check_in,
            until=until,
            explanation=event.explanation,
        )
        self.apply(effect, note=event.text[:1000])

    def on_engagement(self, event: EngagementEvent) -> None:
        clicks = 0
        if event.kind == "click" and not event.automated and event.content_id:
            piece = event.content_id
            clicks = self.s.human_clicks.get(piece, 0)
            if event.at is not None and workflow.patched(names.PATCH_CLICK_VISITS):
                if rules.is_same_visit(self.m.last_click_at.get(piece), event.at):
                    self.apply(rules.Effect(f"click on '{piece}' in the same visit: counted once"))
                    return
                self.m.last_click_at[piece] = event.at
                if len(self.m.last_click_at) > KEEP_CLICKED_PIECES:
                    self.m.last_click_at.pop(next(iter(self.m.last_click_at)))
            clicks += 1
            self.s.human_clicks[piece] = clicks
        elif event.kind in ("sms_opt_out", "sms_opt_in"):
            self.s.sms_opted_out = event.kind == "sms_opt_out"
        self.apply(rules.engagement_effect(self.s.mode, event, clicks))

    def on_delivery(self, event: DeliveryEvent) -> None:
        self.apply(rules.delivery_effect(event))

    def on_trigger(self, event: TriggerEvent) -> None:
        self.apply(rules.trigger_effect(self.s.mode, event.name), event.note)

    # --------------------------------------------------------------- commands
    # Each update: `check_*` is its validator (refuses with CommandRejected, changes
    # nothing), `on_*` carries it out and returns the new state.

    def check_snooze(self, command: SnoozeInput) -> None:
        refuse(rules.closed_problem(self.s.mode, self.s.outcome))
        now = workflow.now()
        refuse(rules.snooze_problem(self.snooze_end(command, now), now))

    def on_snooze(self, command: SnoozeInput) -> LeadState:
        end = self.snooze_end(command, workflow.now())
        self.snooze_until(end, command.reason or f"snoozed until {end.date().isoformat()}")
        return self.s

    def snooze_end(self, command: SnoozeInput, now: datetime) -> datetime:
        return rules.snooze_end(command, now, self.lead.timezone)

    def check_pause(self, command: PauseInput) -> None:
        refuse(rules.closed_problem(self.s.mode, self.s.outcome))
        end = rules.pause_end(command.until, self.lead.timezone)
        refuse(rules.pause_problem(self.s.mode, end, workflow.now()))

    def on_pause(self, command: PauseInput) -> LeadState:
        self.hold(Mode.PAUSED, command.reason, until=self._pause_end(command))
        return self.s

    def _pause_end(self, command: PauseInput) -> datetime | None:
        end = rules.pause_end(command.until, self.lead.timezone)
        if end is None:
            return None
        now = workflow.now()
        return now + rules.scaled(end - now, self.input.speedup)

    def check_resume(self, command: ResumeInput) -> None:
        refuse(rules.closed_problem(self.s.mode, self.s.outcome))
        refuse(rules.resume_problem(self.s.mode))

    def on_resume(self, command: ResumeInput) -> LeadState:
        self.resume(command.note or "resumed by staff")
        return self.s

    def check_move(self, command: MoveInput) -> None:
        refuse(rules.closed_problem(self.s.mode, self.s.outcome))
        refuse(rules.move_problem(self.s.mode, command.to))

    def on_move(self, command: MoveInput) -> LeadState:
        self.enter(Mode(command.to), command.reason or f"moved to {command.to} by staff")
        return self.s

    def check_close(self, command: CloseInput) -> None:
        refuse(rules.closed_problem(self.s.mode, self.s.outcome))

    def on_close(self, command: CloseInput) -> LeadState:
        self.set_mode(Mode.CLOSED, command.note or f"closed as {command.outcome}", Outcome(command.outcome))
        return self.s

    def check_complete_task(self, command: CompleteTaskInput) -> None:
        refuse(rules.closed_problem(self.s.mode, self.s.outcome))
        if not any(t.task_id == command.task_id for t in self.s.open_tasks):
            open_ids = ", ".join(t.task_id for t in self.s.open_tasks) or "none"
            raise CommandRejected(f"no open task {command.task_id!r}; open tasks: {open_ids}")

    def on_complete_task(self, command: CompleteTaskInput) -> LeadState:
        task = next(t for t in self.s.open_tasks if t.task_id == command.task_id)
        self.s.open_tasks = [t for t in self.s.open_tasks if t.task_id != command.task_id]
        done = task.model_copy(update={"done": True, "result": command.result})
        self.s.done_tasks = bounded([*self.s.done_tasks, done], KEEP_DONE_TASKS)
        self.version += 1
        return self.s

    # ------------------------------------------------------------- visibility

    def refresh(self) -> None:
        """Derive the displayed cadence, step and next touch from the current mode."""
        mode = self.s.mode
        cadence, step, at, label = None, None, None, None
        if mode in rules.CADENCE_MODES and self.m.follow_up and self.m.nurture:
            definition = self.cadence(mode)
            if mode == Mode.NURTURE or self.m.step_index < len(definition.steps):
                current, label = self.current_step(mode)
                cadence, step, at = definition.ref, current.key, self.m.due_at
        elif mode == Mode.SNOOZED and self.m.nurture:
            definition = self.m.nurture
            current = definition.check_in or rules.rotation_step(definition, self.m.nurture_rotation)
            cadence, step, at = definition.ref, current.key, self.s.snoozed_until
            label = f"snoozed until {at:%Y-%m-%d}: {current.purpose}" if at else current.purpose
        if at is not None and step is not None and self.m.planned_for == f"{step}@{at.isoformat()}":
            at, label = self.m.send_at, f"{label} · {self.m.send_label}"
        self.s.cadence, self.s.step, self.s.next_touch_at, self.s.next_touch = cadence, step, at, label

    def search_attributes(self) -> dict[str, Any]:
        """The search attribute values the lead should show now, by name (None: unset)."""
        s = self.s
        return {
            sa.LEAD_MODE.name: s.mode.value,
            sa.LEAD_STEP.name: s.step,
            # The id alone, as the client sets it at enroll: one form to query by.
            sa.LEAD_CADENCE.name: s.cadence.split("@")[0] if s.cadence else None,
            sa.LEAD_OWNER.name: self.lead.owner,
            sa.LEAD_SEGMENT.name: self.lead.segment,
            sa.LEAD_NEXT_TOUCH_AT.name: s.next_touch_at,
            sa.LEAD_OUTCOME.name: s.outcome.value if s.outcome else None,
        }


_UNSET = object()


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


def bounded(items: list[Any], keep: int) -> list[Any]:
    return items[-keep:]


def short_error(err: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in e['loc']) or 'event'}: {e['msg']}" for e in err.errors()
    )


def parse_command(model: type[Any], raw: Any) -> Any:
    """Commands arrive as the model or, when they do not fit it, as raw JSON: then the
    caller gets pydantic's explanation instead of an opaque decoding failure."""
    if isinstance(raw, model):
        return raw
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        raise CommandRejected(f"invalid command: {short_error(err)}") from None


def refuse(problem: str | None) -> None:
    if problem:
        raise CommandRejected(problem)


def rejection(err: ActivityError) -> str | None:
    """The provider's reason when it refused one message for good, else None."""
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.type == names.DELIVERY_REJECTED:
        return cause.message
    return None


def blocking_problem(err: ActivityError | ApplicationError) -> str | None:
    """The message of an error a retry cannot fix (bad template, unknown cadence)."""
    cause = err.cause if isinstance(err, ActivityError) else err
    if isinstance(cause, ApplicationError) and cause.type in names.BLOCKING_ERRORS:
        return cause.message
    return None
