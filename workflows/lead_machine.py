"""LeadMachine: one lead's state, and carrying out the transition table on it.

LeadWorkflow (`workflows/lead.py`) waits, runs activities and publishes. What its main
loop and its signal and update handlers change in between is done here: each event,
command or cadence moment is looked up in `workflows.transitions` and the effect it
names is applied (`apply`). The validators' checks live here too.

Pure: the clock, the logger and the patch check are handed in (LeadWorkflow hands in
`workflow.now`, `workflow.logger` and `workflow.patched`), so it is unit-tested without
a server (`tests/workflows/test_lead_machine.py`). It is imported passed through the sandbox
so its code is loaded once per worker, not once per cached lead; hence no module-level
mutable state: every run of every lead shares this module. The replay tests
(`tests/replay`) catch a change that would break leads already running.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import ValidationError

import workflows.cadence as rules
import workflows.names as names
import workflows.transitions as transitions
import workflows.visibility as visibility
from workflows.errors import CommandRejected, field_problems, json_kind, refuse
from workflows.models import (
    CADENCE_MODES,
    EVENT_ID_MAX,
    HOLDING_MODES,
    CadenceDefinition,
    CadenceStep,
    Channel,
    CloseInput,
    CompleteTaskInput,
    DeliveryEvent,
    EngagementEvent,
    EnrollLead,
    EraseInput,
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
    TaskKind,
    TouchInput,
    TouchRecord,
    TouchResult,
    TransitionRecord,
    TriggerEvent,
)
from workflows.send_window_models import PlannedSend, PlanSendInput, region_from_attributes

# Bounded lists keep the state (and the continue-as-new input) small for years.
KEEP_TOUCHES = 50
KEEP_TRANSITIONS = 50
KEEP_REJECTED = 20
KEEP_DONE_TASKS = 20
KEEP_SEEN_EVENTS = 2000
KEEP_CLICKED_PIECES = 100
# An unknown signal's name is the caller's text: kept this long at most.
SIGNAL_NAME_MAX = 100
On = transitions.On
Do = transitions.Do


class LeadMachine:
    """The lead's state (`m`, handed to the next run on continue-as-new; `s`, what the
    `state` query returns) and the transitions on it. `version` goes up with every
    change a waiting main loop must notice."""

    def __init__(
        self,
        input: EnrollLead,
        *,
        clock: Callable[[], datetime],
        patched: Callable[[str], bool],
        log: logging.Logger | logging.LoggerAdapter[Any],
    ) -> None:
        self.input = input
        # Workflow time, the patch check and the replay-safe logger (workflow.now,
        # workflow.patched, workflow.logger in LeadWorkflow).
        self.now = clock
        self.patched = patched
        self.log = log
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
        now = self.now()
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
        sent_due = self.m.due_at or self.now()
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
        on = On.SEQUENCE_DONE if cadence.after_last_step == "nurture" else On.SEQUENCE_DONE_STOP
        self.happen(on, cadence=cadence.id)

    def checked_in(self) -> None:
        """The check-in after a snooze was sent: the lead goes on in nurture."""
        self.happen(On.CHECK_IN_SENT)

    def pause_ended(self) -> None:
        self.happen(On.PAUSE_ENDED)

    def window_blocked(self, problem: str) -> None:
        """The send window cannot be planned (the lead's zone or region): pause; `resume`
        waits out what was left of the wait."""
        self.happen(On.BLOCKED, problem=problem)

    def send_blocked(self, problem: str) -> None:
        """A step could not be sent (template or data): pause; `resume` retries it at once."""
        if self.happen(On.BLOCKED, problem=problem):
            self.m.remaining_seconds = 0.0

    def cadences_blocked(self, problem: str, *, forget: bool) -> None:
        """The cadences cannot be used: pause; `resume` loads them again (`forget`: the
        loaded ones do not fit their slots and are dropped)."""
        if self.happen(On.BLOCKED, problem=problem):
            self.m.remaining_seconds = None
            if forget:
                self.m.follow_up = self.m.nurture = None

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
            step.thread and cadence.mode == "follow_up" and self.m.step_index > 0 and step.channel == Channel.EMAIL
        )
        return TouchInput(
            send_key=names.send_key(self.lead.id, seq, step.key),
            lead=self.lead,
            context=self.input.context,
            cadence=cadence.ref,
            mode=cadence.mode,
            step=step,
            thread_with=self.m.last_email_message_id if threads else None,
            speedup=self.input.speedup,
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
                    sent_at=self.now(),
                    cadence=cadence.ref,
                    send_key=touch.send_key,
                    status=result.status,
                    detail=result.detail,
                ),
            ],
            KEEP_TOUCHES,
        )
        self.log.info("touch %s: %s %s", result.status, step.channel.value, step.key)
        outcome = transitions.suppression_outcome(result.status, result.detail)
        if outcome is not None:
            self.happen(On.SUPPRESSED, outcome=outcome, detail=result.detail)
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
        self.s.open_tasks.append(RepTask(task_id=task.task_id, kind=task.kind, title=task.title, created_at=self.now()))

    def queue_task(self, title: str, note: str = "", *, kind: TaskKind = "reply") -> None:
        self.m.task_seq += 1
        task = RepTaskInput(
            task_id=f"{self.lead.id}:task-{self.m.task_seq}",
            kind=kind,
            lead_id=self.lead.id,
            owner=self.lead.owner,
            title=title,
            note=note,
            speedup=self.input.speedup,
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
        if to not in CADENCE_MODES:
            self.m.due_at = None
        self.m.last_email_message_id = None  # a new mode starts a new thread
        if to == Mode.CLOSED:
            self.s.outcome = outcome
            # No one works a closed lead: its open tasks end with it, saying why.
            ended = f"lead closed ({outcome.value})" if outcome else "lead closed"
            done = [t.model_copy(update={"done": True, "result": ended}) for t in self.s.open_tasks]
            self.s.done_tasks = bounded([*self.s.done_tasks, *done], KEEP_DONE_TASKS)
            self.s.open_tasks = []
        self.s.mode = to
        self.s.transitions = bounded(
            [
                *self.s.transitions,
                TransitionRecord(from_mode=previous, to_mode=to, reason=reason, at=self.now()),
            ],
            KEEP_TRANSITIONS,
        )
        self.version += 1
        self.refresh()

    def hold(self, to: Mode, reason: str, *, until: datetime | None = None) -> None:
        """Stop automation (paused or awaiting a rep), remembering where to come back to."""
        current = self.s.mode
        if current in CADENCE_MODES:
            self.m.resume_mode = current
            due = self.m.due_at
            self.m.remaining_seconds = max(0.0, (due - self.now()).total_seconds()) if due else None
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
        if to in CADENCE_MODES:
            # Keep the spacing the lead had: the wait left when it stopped, no burst.
            self.m.due_at = self.now() + timedelta(seconds=remaining) if remaining is not None else None
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

    def snooze_until(self, end: datetime, reason: str) -> None:
        """Wait until `end` (on the lead's clock), then the check-in touch. Not a hold: the
        snooze itself is the mode to come back to."""
        self.set_mode(Mode.SNOOZED, reason)
        self.s.snoozed_until = self.scaled_end(end)
        self.refresh()

    def happen(self, on: transitions.On, *, end: datetime | None = None, note: str = "", **facts: Any) -> bool:
        """Apply the table's row for `on` in the current mode; False when it has none (a
        cadence moment that no longer applies, or an event on a closed lead)."""
        if transitions.row_for(self.s.mode, on) is None:
            return False
        self.apply(transitions.decide(self.s.mode, on, **facts), note=note, end=end)
        return True

    def apply(self, effect: transitions.Effect, note: str = "", *, end: datetime | None = None) -> None:
        """Carry out one row of the transition table. `end` is when a hold or snooze ends
        on the lead's clock; by default 09:00 local on the effect's `until` day."""
        if effect.rep_task:
            self.queue_task(effect.rep_task, note, kind=effect.task_kind)
        if end is None and effect.until is not None:
            end = self.local_morning(effect.until)
        if effect.do == Do.CLOSE:
            self.set_mode(Mode.CLOSED, effect.reason, effect.outcome)
        elif effect.do == Do.ENTER:
            assert effect.to is not None
            self.enter(effect.to, effect.reason)
        elif effect.do == Do.SNOOZE:
            assert end is not None
            self.snooze_until(end, effect.reason)
        elif effect.do == Do.HOLD:
            assert effect.to is not None
            self.hold(effect.to, effect.reason, until=self.scaled_end(end) if end is not None else None)
        elif effect.do == Do.RESUME:
            self.resume(effect.reason)
        else:
            self.log.info("event: %s", effect.reason)
        # Every event and command wakes a waiting main loop, even when the mode stays.
        self.version += 1

    def local_morning(self, day: date) -> datetime:
        """9:00 on `day` in the lead's zone: when a pause or snooze ending that day ends."""
        return rules.pause_end(day, self.lead.timezone) or self.now()

    def scaled_end(self, end: datetime) -> datetime:
        now = self.now()
        return now + rules.scaled(end - now, self.input.speedup)

    # ----------------------------------------------------------------- events

    def receive(self, signal: str, args: Sequence[Any], model: type[Any], handle: Callable[[Any], None]) -> None:
        """Validate, deduplicate by event_id, then apply. An event that is not one (no
        argument, two, not a JSON object, invalid) is kept in the state with its error,
        never silently dropped; a repeated one does nothing."""
        if len(args) != 1:
            self.reject(signal, None, f"takes one JSON object, the event; got {len(args)} arguments")
            return
        raw = args[0]
        if not isinstance(raw, model | dict):
            self.reject(signal, None, f"takes a JSON object, the event; got {json_kind(raw)}")
            return
        try:
            event = raw if isinstance(raw, model) else model.model_validate(raw)
        except ValidationError as err:
            event_id = raw.get("event_id") if isinstance(raw, dict) else None
            self.reject(signal, event_id, field_problems(err))
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
            self.log.info("%s event %s after close: recorded only", signal, event.event_id)
            return
        handle(event)

    def reject(self, signal: str, event_id: Any, error: str) -> None:
        """Keep a rejected event's name, id and error (bounded, never its content), and log
        no more than that."""
        event_id = str(event_id)[:EVENT_ID_MAX] if event_id is not None else None
        signal = signal[:SIGNAL_NAME_MAX]
        self.s.rejected_events = bounded(
            [*self.s.rejected_events, RejectedEvent(signal=signal, event_id=event_id, error=error, at=self.now())],
            KEEP_REJECTED,
        )
        self.log.warning("rejected %s event %s: %s", signal, event_id, error)
        if self.patched(names.PATCH_REJECTS_WAKE):
            # Counted and waking the main loop like any event: rejected signals still grow
            # the history, and only the loop can continue as new.
            self.events_this_run += 1
            self.version += 1

    def on_reply(self, event: ReplyEvent) -> None:
        nurture = self.m.nurture
        after_check_in = bool(nurture and nurture.check_in and self.m.last_touch_step == nurture.check_in.key)
        until = event.until
        if until is not None:
            problem = rules.reply_until_problem(self.local_morning(until), self.now())
            if problem is not None:
                self.log.info("reply %s: date ignored, %s", event.event_id, problem)
                until = None
        effect = transitions.reply_effect(
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
            if event.at is not None and self.patched(names.PATCH_CLICK_VISITS):
                if rules.is_same_visit(self.m.last_click_at.get(piece), event.at):
                    self.happen(On.SAME_VISIT_CLICK, piece=piece)
                    return
                self.m.last_click_at[piece] = event.at
                if len(self.m.last_click_at) > KEEP_CLICKED_PIECES:
                    self.m.last_click_at.pop(next(iter(self.m.last_click_at)))
            clicks += 1
            self.s.human_clicks[piece] = clicks
        elif event.kind in ("sms_opt_out", "sms_opt_in"):
            self.s.sms_opted_out = event.kind == "sms_opt_out"
        self.apply(transitions.engagement_effect(self.s.mode, event, clicks))

    def on_delivery(self, event: DeliveryEvent) -> None:
        self.apply(transitions.delivery_effect(event, self.s.mode))

    def on_trigger(self, event: TriggerEvent) -> None:
        self.apply(transitions.trigger_effect(self.s.mode, event.name), event.note)

    # --------------------------------------------------------------- commands
    # Each update: `check_*` is its validator (refuses with CommandRejected, changes
    # nothing), `on_*` carries it out and returns the new state.

    def check_snooze(self, command: SnoozeInput) -> None:
        refuse(rules.closed_problem(self.s.mode, self.s.outcome))
        now = self.now()
        refuse(rules.snooze_problem(self.snooze_end(command, now), now))

    def on_snooze(self, command: SnoozeInput) -> LeadState:
        end = self.snooze_end(command, self.now())
        self.happen(On.SNOOZE, end=end, reason=command.reason or f"snoozed until {end.date().isoformat()}")
        return self.s

    def snooze_end(self, command: SnoozeInput, now: datetime) -> datetime:
        return rules.snooze_end(command, now, self.lead.timezone)

    def check_pause(self, command: PauseInput) -> None:
        refuse(rules.closed_problem(self.s.mode, self.s.outcome))
        end = rules.pause_end(command.until, self.lead.timezone)
        refuse(rules.pause_problem(self.s.mode, end, self.now()))

    def on_pause(self, command: PauseInput) -> LeadState:
        self.happen(On.PAUSE, end=rules.pause_end(command.until, self.lead.timezone), reason=command.reason)
        return self.s

    def check_resume(self, command: ResumeInput) -> None:
        refuse(rules.closed_problem(self.s.mode, self.s.outcome))
        refuse(rules.resume_problem(self.s.mode))

    def on_resume(self, command: ResumeInput) -> LeadState:
        self.happen(On.RESUME, reason=command.note or "resumed by staff")
        return self.s

    def check_move(self, command: MoveInput) -> None:
        refuse(rules.closed_problem(self.s.mode, self.s.outcome))
        refuse(rules.move_problem(self.s.mode, command.to))

    def on_move(self, command: MoveInput) -> LeadState:
        on = On.MOVE_TO_FOLLOW_UP if command.to == Mode.FOLLOW_UP else On.MOVE_TO_NURTURE
        self.happen(on, reason=command.reason or f"moved to {command.to} by staff")
        return self.s

    def check_close(self, command: CloseInput) -> None:
        if self.s.mode == Mode.CLOSED and self.s.outcome == Outcome.MEETING_BOOKED:
            refuse(rules.deal_outcome_problem(Outcome(command.outcome)))
            return
        refuse(rules.closed_problem(self.s.mode, self.s.outcome))

    def on_close(self, command: CloseInput) -> LeadState:
        on = On.DEAL_OUTCOME if self.s.mode == Mode.CLOSED else On.CLOSE
        self.happen(on, outcome=Outcome(command.outcome), reason=command.note or f"closed as {command.outcome}")
        return self.s

    def check_erase(self, command: EraseInput) -> None:
        if self.s.mode == Mode.CLOSED and self.s.outcome != Outcome.MEETING_BOOKED:
            refuse(rules.closed_problem(self.s.mode, self.s.outcome))

    def on_erase(self, command: EraseInput) -> LeadState:
        self.happen(On.ERASE, reason=command.note or "erased on request")
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
        self.happen(On.COMPLETE_TASK, task_id=command.task_id)
        return self.s

    # ------------------------------------------------------------- visibility

    def refresh(self) -> None:
        """Derive the displayed cadence, step and next touch from the current mode."""
        mode = self.s.mode
        cadence, step, at, label = None, None, None, None
        if mode in CADENCE_MODES and self.m.follow_up and self.m.nurture:
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
        return visibility.search_attributes(self.s, self.lead)


def bounded(items: list[Any], keep: int) -> list[Any]:
    return items[-keep:]
