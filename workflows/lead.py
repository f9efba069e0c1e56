"""LeadWorkflow: one enrolled lead, for as long as it lives.

A thin state machine over the pure rules in `workflows.cadence`. Signal and update
handlers are synchronous: they only change state (and queue rep tasks), so they
finish at once and never interleave with a half-done send. The main loop is the only
place that waits, sends and publishes search attributes.

Determinism: every wait is guarded with `delay > 0` so a zero wait never creates a
timer, and all time comes from `workflow.now()`.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Any, Callable

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, ValidationError

    # `import a.b as c`, not `from a import b`: the sandbox passes a module through only
    # when it is named in full, and `workflows` itself is this module's (sandboxed) parent.
    import workflows.cadence as rules
    import workflows.names as names
    import workflows.search_attributes as sa
    from workflows.send_window_models import PlanSendInput, PlannedSend, region_from_attributes
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
        LoadCadenceInput,
        Mode,
        MoveInput,
        Outcome,
        PauseInput,
        RejectedEvent,
        RepTask,
        RepTaskInput,
        ReplyEvent,
        ResumeInput,
        SnoozeInput,
        TouchInput,
        TouchRecord,
        TouchResult,
        TransitionRecord,
        TriggerEvent,
    )

ACTIVITY_TIMEOUT = timedelta(minutes=2)
# Unlimited attempts with capped backoff: a provider outage delays touches, never drops them.
ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    non_retryable_error_types=[
        names.TEMPLATE_ERROR,
        names.UNKNOWN_CADENCE,
        names.DELIVERY_REJECTED,
        names.INVALID_SEND_WINDOW,
    ],
)
# Bounded lists keep the state (and the continue-as-new input) small for years.
KEEP_TOUCHES = 50
KEEP_TRANSITIONS = 50
KEEP_REJECTED = 20
KEEP_DONE_TASKS = 20
KEEP_SEEN_EVENTS = 2000
KEEP_CLICKED_PIECES = 100
# A run ends (continue-as-new) after this many touches or events even when the
# server has not suggested it yet, so a lead in nurture for years keeps a small history.
MAX_TOUCHES_PER_RUN = 12
MAX_EVENTS_PER_RUN = 2000
HOLDING_MODES = (Mode.PAUSED, Mode.AWAITING_REP)


class CommandRejected(ApplicationError):
    """Raised by update validators; the caller sees the message and nothing changes."""

    def __init__(self, message: str) -> None:
        super().__init__(message, type="CommandRejected", non_retryable=True)


@workflow.defn(name=names.WORKFLOW_TYPE)
class LeadWorkflow:
    @workflow.init
    def __init__(self, input: EnrollLead) -> None:
        self._input = input
        self._lead = input.lead
        if input.memory is not None:
            self._m = input.memory
            self._m.state.run += 1
        else:
            self._m = LeadMemory(state=LeadState(lead_id=input.lead.id, mode=Mode(input.mode)))
        self._s = self._m.state
        self._seen = set(self._m.seen_event_ids)
        self._version = 0
        self._run_mode = self._s.mode
        self._touches_this_run = 0
        self._events_this_run = 0
        self._published: dict[str, Any] = {}

    # ------------------------------------------------------------------ main loop

    @workflow.run
    async def run(self, input: EnrollLead) -> LeadState:
        if input.memory is None:
            await self._start()
        while self._s.mode != Mode.CLOSED and not self._run_is_long_enough():
            await self._flush_tasks()
            self._publish()
            if self._s.mode == Mode.CLOSED or self._run_is_long_enough():
                break
            await self._advance()
        # Handlers are synchronous, so this returns at once; it stays as a guard
        # should one ever await.
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._flush_tasks()
        self._publish()
        if self._s.mode == Mode.CLOSED:
            return self._s
        workflow.continue_as_new(self._input.model_copy(update={"memory": self._m}))

    def _run_is_long_enough(self) -> bool:
        return (
            self._s.mode != self._run_mode
            or self._touches_this_run >= MAX_TOUCHES_PER_RUN
            or self._events_this_run >= MAX_EVENTS_PER_RUN
            or workflow.info().is_continue_as_new_suggested()
        )

    async def _start(self) -> None:
        # Read the mode after loading: an event can arrive (and change it) meanwhile.
        if await self._load_cadences() and self._s.mode in rules.CADENCE_MODES:
            self._begin(self._s.mode)
        self._refresh()

    async def _advance(self) -> None:
        mode = self._s.mode
        if mode in rules.CADENCE_MODES:
            if not await self._load_cadences():
                return
            if mode == Mode.FOLLOW_UP and self._m.step_index >= len(self._cadence(mode).steps):
                self._finish_sequence()  # resumed after its last step was sent
                return
            if self._m.due_at is None:
                self._begin(mode)
            if not await self._plan_window(self._current_step(mode)[0], self._m.due_at):
                return
            if await self._wait_until(self._s.next_touch_at, self._s.next_touch):
                await self._send_cadence_step(mode)
        elif mode == Mode.SNOOZED:
            if not await self._plan_window(self._check_in_step(), self._s.snoozed_until):
                return
            if await self._wait_until(self._s.next_touch_at, self._s.next_touch):
                await self._send_check_in()
        elif mode == Mode.PAUSED and self._s.paused_until is not None:
            label = f"paused until {self._s.paused_until:%Y-%m-%d %H:%M} UTC, then resume"
            if await self._wait_until(self._s.paused_until, label):
                self._resume("pause ended")
        else:
            # paused without end, or awaiting a rep: only a command or event moves it.
            version = self._version
            await workflow.wait_condition(lambda: self._version != version)

    async def _plan_window(self, step: CadenceStep, due: datetime | None) -> bool:
        """Move the touch due at `due` into the lead's send window (local business hours,
        no holidays, SMS quiet hours). Planned in a local activity whose result is
        recorded, so replaying later with newer zone or holiday data changes nothing.
        Fast-clock runs (speedup > 1) keep the plain day offsets. False when the lead
        changed meanwhile or paused."""
        if due is None or self._input.speedup != 1 or not workflow.patched(names.PATCH_SEND_WINDOWS):
            return True
        key = f"{step.key}@{due.isoformat()}"
        if self._m.planned_for == key:
            return True
        mode, version = self._s.mode, self._version
        attributes = self._lead.attributes
        try:
            planned = await workflow.execute_local_activity(
                names.PLAN_SEND,
                PlanSendInput(
                    lead_id=self._lead.id,
                    send_key=f"{self._lead.id}:{self._m.touch_seq + 1:05d}:{step.key}",
                    channel=step.channel,
                    due_at=due,
                    lead_timezone=self._lead.timezone,
                    country=str(attributes["country"]) if attributes.get("country") else None,
                    region=region_from_attributes(attributes),
                ),
                result_type=PlannedSend,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=ACTIVITY_RETRY,
            )
        # A local activity's failure arrives as the ApplicationError itself, unwrapped.
        except (ActivityError, ApplicationError) as err:
            problem = _blocking_problem(err)
            if problem is None:
                raise
            if self._version == version:
                self._hold(Mode.PAUSED, f"step {step.key}: {problem}. Fix the lead's data, then resume")
            return False
        if self._version != version or self._s.mode != mode:
            return False
        self._m.planned_for, self._m.send_at, self._m.send_label = key, planned.send_at, planned.label
        self._refresh()
        return True

    def _check_in_step(self) -> CadenceStep:
        nurture = self._cadence(Mode.NURTURE)
        return nurture.check_in or rules.rotation_step(nurture, self._m.nurture_rotation)

    async def _wait_for_task(self, step: CadenceStep) -> bool:
        """Hold the cadence until the rep completes this step's task, or the wait runs out.
        False when the lead changed meanwhile (a reply, a command)."""
        assert step.wait_for_task_days is not None
        task_id = self._s.touches[-1].send_key
        mode = self._s.mode
        timeout = rules.scaled(timedelta(days=step.wait_for_task_days), self._input.speedup)
        try:
            await workflow.wait_condition(
                lambda: all(t.task_id != task_id for t in self._s.open_tasks)
                or self._s.mode != mode,
                timeout=timeout,
                timeout_summary=f"waiting up to {step.wait_for_task_days} days: {step.purpose}",
            )
        except asyncio.TimeoutError:
            workflow.logger.info("task %s not done in time: the cadence goes on", task_id)
        return self._s.mode == mode

    async def _wait_until(self, when: datetime | None, label: str | None) -> bool:
        """True when `when` arrives; False when a handler changed the lead first."""
        version = self._version
        delay = (when - workflow.now()).total_seconds() if when else 0.0
        if delay > 0:
            try:
                await workflow.wait_condition(
                    lambda: self._version != version,
                    timeout=delay,
                    timeout_summary=label or "next touch",
                )
                return False
            except asyncio.TimeoutError:
                pass
        return self._version == version

    # --------------------------------------------------------------- cadences

    async def _load_cadences(self) -> bool:
        """Load both cadence definitions once; a lead keeps the versions it started with."""
        try:
            if self._m.follow_up is None:
                self._m.follow_up = await self._load(self._input.follow_up_cadence)
            if self._m.nurture is None:
                self._m.nurture = await self._load(self._input.nurture_cadence)
        except ActivityError as err:
            problem = _blocking_problem(err)
            if problem is None:
                raise
            self._hold(Mode.PAUSED, f"{problem}. Deploy a cadence with that id, then resume")
            self._m.remaining_seconds = None
            return False
        problem = rules.cadence_slot_problem(self._m.follow_up, self._m.nurture)
        if problem:
            self._hold(Mode.PAUSED, problem)
            self._m.remaining_seconds = None
            self._m.follow_up = self._m.nurture = None
            return False
        return True

    async def _load(self, cadence_id: str) -> CadenceDefinition:
        return await workflow.execute_activity(
            names.LOAD_CADENCE,
            LoadCadenceInput(cadence_id=cadence_id),
            result_type=CadenceDefinition,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )

    def _cadence(self, mode: Mode) -> CadenceDefinition:
        cadence = self._m.follow_up if mode == Mode.FOLLOW_UP else self._m.nurture
        assert cadence is not None, "cadences are loaded before a cadence mode runs"
        return cadence

    def _begin(self, mode: Mode) -> None:
        """Schedule the first touch of a fresh pass through `mode`'s cadence."""
        now = workflow.now()
        if mode == Mode.FOLLOW_UP:
            self._m.step_index = 0
            gap = rules.sequence_gap(self._cadence(mode), 0)
        else:
            gap = rules.rotation_gap(self._cadence(mode), now)
        self._m.due_at = now + rules.scaled(gap, self._input.speedup)
        self._refresh()

    def _current_step(self, mode: Mode) -> tuple[CadenceStep, str]:
        cadence = self._cadence(mode)
        if mode == Mode.FOLLOW_UP:
            step = cadence.steps[self._m.step_index]
            return step, rules.step_label(cadence, step)
        step = rules.rotation_step(cadence, self._m.nurture_rotation)
        return step, rules.step_label(cadence, step, self._m.nurture_rotation)

    async def _send_cadence_step(self, mode: Mode) -> None:
        cadence = self._cadence(mode)
        step, _ = self._current_step(mode)
        if not await self._touch(cadence, step, resume_to=mode):
            return
        if step.wait_for_task_days and not await self._wait_for_task(step):
            return
        sent_due = self._m.due_at or workflow.now()
        if mode == Mode.FOLLOW_UP:
            self._m.step_index += 1
            finished = self._m.step_index >= len(cadence.steps)
            gap = timedelta(0) if finished else rules.sequence_gap(cadence, self._m.step_index)
        else:
            self._m.nurture_rotation += 1
            finished = False
            gap = rules.rotation_gap(cadence, sent_due)
        wait = rules.scaled(gap, self._input.speedup)
        if self._s.mode != mode:
            # A command arrived while the touch was in flight. If it only paused the
            # lead, resuming must wait the full gap to the next step, not send at once.
            if self._m.resume_mode == mode and not finished:
                self._m.remaining_seconds = wait.total_seconds()
            return
        self._m.due_at = sent_due + wait
        if finished:
            self._finish_sequence()
        self._refresh()

    def _finish_sequence(self) -> None:
        cadence = self._cadence(Mode.FOLLOW_UP)
        reason = f"{cadence.id} finished with no reply"
        if cadence.after_last_step == "nurture":
            self._set_mode(Mode.NURTURE, reason)
            self._begin(Mode.NURTURE)
        else:
            self._set_mode(Mode.CLOSED, reason)

    async def _send_check_in(self) -> None:
        nurture = self._cadence(Mode.NURTURE)
        step = self._check_in_step()
        if not await self._touch(nurture, step, resume_to=Mode.SNOOZED):
            return
        if self._s.mode == Mode.SNOOZED:
            self._set_mode(Mode.NURTURE, "snooze ended: check-in sent")
            self._begin(Mode.NURTURE)

    async def _touch(self, cadence: CadenceDefinition, step: CadenceStep, *, resume_to: Mode) -> bool:
        """Render and deliver one step. False when it could not be sent and the lead paused."""
        seq = self._m.touch_seq + 1
        # Follow-ups after the first reply in the same email thread (the transport
        # decides, by its settings, whether to set In-Reply-To/References).
        threads = (
            step.thread
            and cadence.mode == "follow_up"
            and self._m.step_index > 0
            and step.channel == Channel.EMAIL
        )
        touch = TouchInput(
            send_key=f"{self._lead.id}:{seq:05d}:{step.key}",
            lead=self._lead,
            context=self._input.context,
            cadence=cadence.ref,
            mode=cadence.mode,
            step=step,
            thread_with=self._m.last_email_message_id if threads else None,
        )
        try:
            result = await self._deliver(touch)
        except ActivityError as err:
            rejected = _rejection(err)
            if rejected is not None:
                result = TouchResult(send_key=touch.send_key, status="rejected", detail=rejected)
                return self._record(cadence, step, touch, result, seq)
            problem = _blocking_problem(err)
            if problem is None:
                raise
            # Pause rather than fail: the lead is kept, the reason is visible, and
            # `resume` retries this same step once the template or data is fixed.
            if self._s.mode == resume_to:
                self._hold(
                    Mode.PAUSED,
                    f"step {step.key} could not be sent: {problem}. Fix it, then resume",
                )
                self._m.remaining_seconds = 0.0
            return False
        return self._record(cadence, step, touch, result, seq)

    def _record(
        self, cadence: CadenceDefinition, step: CadenceStep, touch: TouchInput, result: TouchResult, seq: int
    ) -> bool:
        if step.channel == Channel.EMAIL and result.status == "sent" and result.message_id:
            self._m.last_email_message_id = result.message_id
        self._m.touch_seq = seq
        self._m.last_touch_step = step.key
        self._touches_this_run += 1
        self._s.touches_total += 1
        self._s.touches = _bounded(
            [
                *self._s.touches,
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
        if outcome is not None and self._s.mode != Mode.CLOSED:
            self._set_mode(Mode.CLOSED, f"address suppressed ({result.detail})", outcome)
        return True

    async def _deliver(self, touch: TouchInput) -> TouchResult:
        channel = touch.step.channel
        if channel == Channel.EMAIL:
            return await self._activity(names.SEND_EMAIL, touch, task_queue=self._input.email_task_queue)
        if channel == Channel.SMS:
            if self._s.sms_opted_out:
                return TouchResult(
                    send_key=touch.send_key,
                    status="skipped",
                    detail="the lead texted STOP: no SMS until they text START",
                )
            return await self._activity(names.SEND_SMS, touch)
        kind = "call" if channel == Channel.CALL_TASK else "linkedin"
        task = RepTaskInput(
            task_id=touch.send_key,
            kind=kind,
            lead_id=self._lead.id,
            owner=self._lead.owner,
            title=touch.step.purpose,
            touch=touch,
        )
        result = await self._activity(names.CREATE_REP_TASK, task)
        self._open_task(task)
        return result

    async def _activity(self, name: str, arg: BaseModel, *, task_queue: str | None = None) -> TouchResult:
        return await workflow.execute_activity(
            name,
            arg,
            task_queue=task_queue,
            result_type=TouchResult,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )

    async def _flush_tasks(self) -> None:
        """Create the rep tasks handlers queued; queued in state, so none is lost on restart."""
        while self._m.pending_tasks:
            task = self._m.pending_tasks[0]
            await self._activity(names.CREATE_REP_TASK, task)
            self._m.pending_tasks.pop(0)

    def _open_task(self, task: RepTaskInput) -> None:
        self._s.open_tasks.append(
            RepTask(task_id=task.task_id, kind=task.kind, title=task.title, created_at=workflow.now())
        )

    def _queue_task(self, title: str, note: str = "") -> None:
        self._m.task_seq += 1
        task = RepTaskInput(
            task_id=f"{self._lead.id}:task-{self._m.task_seq}",
            kind="reply",
            lead_id=self._lead.id,
            owner=self._lead.owner,
            title=title,
            note=note,
        )
        self._m.pending_tasks.append(task)
        self._open_task(task)

    # ------------------------------------------------------------ transitions

    def _set_mode(self, to: Mode, reason: str, outcome: Outcome | None = None) -> None:
        previous = self._s.mode
        if to != Mode.PAUSED:
            self._s.pause_reason = None
            self._s.paused_until = None
        if to not in (Mode.SNOOZED, *HOLDING_MODES):
            # Kept while held, so resuming a snoozed lead waits out the rest of its snooze.
            self._s.snoozed_until = None
        if to not in HOLDING_MODES:
            self._m.resume_mode = None
            self._m.remaining_seconds = None
        if to not in rules.CADENCE_MODES:
            self._m.due_at = None
        self._m.last_email_message_id = None  # a new mode starts a new thread
        if to == Mode.CLOSED:
            self._s.outcome = outcome
        self._s.mode = to
        self._s.transitions = _bounded(
            [
                *self._s.transitions,
                TransitionRecord(from_mode=previous, to_mode=to, reason=reason, at=workflow.now()),
            ],
            KEEP_TRANSITIONS,
        )
        self._version += 1
        self._refresh()

    def _hold(self, to: Mode, reason: str, *, until: datetime | None = None) -> None:
        """Stop automation (paused or awaiting a rep), remembering where to come back to."""
        current = self._s.mode
        if current in rules.CADENCE_MODES:
            self._m.resume_mode = current
            due = self._m.due_at
            self._m.remaining_seconds = (
                max(0.0, (due - workflow.now()).total_seconds()) if due else None
            )
        elif current == Mode.SNOOZED:
            self._m.resume_mode = Mode.SNOOZED
        resume_mode, remaining = self._m.resume_mode, self._m.remaining_seconds
        self._set_mode(to, reason)
        self._m.resume_mode, self._m.remaining_seconds = resume_mode, remaining
        if to == Mode.PAUSED:
            self._s.pause_reason = reason
            self._s.paused_until = until
        self._refresh()

    def _resume(self, reason: str) -> None:
        to = self._m.resume_mode or Mode.NURTURE
        remaining = self._m.remaining_seconds
        snoozed_until = self._s.snoozed_until
        self._set_mode(to, reason)
        if to in rules.CADENCE_MODES:
            # Keep the spacing the lead had: the wait left when it stopped, no burst.
            self._m.due_at = (
                workflow.now() + timedelta(seconds=remaining) if remaining is not None else None
            )
        elif to == Mode.SNOOZED:
            self._s.snoozed_until = snoozed_until
        self._refresh()

    def _enter(self, to: Mode, reason: str) -> None:
        """Start a fresh pass of follow-up or nurture (move, trigger, interest)."""
        if to == Mode.FOLLOW_UP:
            self._s.human_clicks = {}
        self._set_mode(to, reason)
        self._m.due_at = None
        if self._m.follow_up is not None and self._m.nurture is not None:
            self._begin(to)

    def _apply(self, effect: rules.Effect, note: str = "") -> None:
        if effect.rep_task:
            self._queue_task(effect.rep_task, note)
        if effect.to == Mode.CLOSED:
            self._set_mode(Mode.CLOSED, effect.reason, effect.outcome)
        elif effect.to == Mode.FOLLOW_UP:
            self._enter(Mode.FOLLOW_UP, effect.reason)
        elif effect.to == Mode.SNOOZED and effect.until is not None:
            self._snooze_until(self._local_morning(effect.until), effect.reason)
        elif effect.to == Mode.PAUSED and effect.until is not None:
            self._hold(Mode.PAUSED, effect.reason, until=self._scaled_end(self._local_morning(effect.until)))
        elif effect.to is not None:
            self._hold(effect.to, effect.reason)
        else:
            workflow.logger.info("event: %s", effect.reason)
        self._version += 1

    # ----------------------------------------------------------------- signals

    @workflow.signal(name="reply")
    def reply(self, event: ReplyEvent | dict[str, Any]) -> None:
        self._receive("reply", event, ReplyEvent, self._on_reply)

    @workflow.signal(name="engagement")
    def engagement(self, event: EngagementEvent | dict[str, Any]) -> None:
        self._receive("engagement", event, EngagementEvent, self._on_engagement)

    @workflow.signal(name="delivery")
    def delivery(self, event: DeliveryEvent | dict[str, Any]) -> None:
        self._receive("delivery", event, DeliveryEvent, lambda e: self._apply(rules.delivery_effect(e)))

    @workflow.signal(name="trigger")
    def trigger(self, event: TriggerEvent | dict[str, Any]) -> None:
        self._receive(
            "trigger", event, TriggerEvent, lambda e: self._apply(rules.trigger_effect(self._s.mode, e.name), e.note)
        )

    def _receive(self, signal: str, raw: Any, model: type[Any], handle: Callable[[Any], None]) -> None:
        """Validate, deduplicate by event_id, then apply. An invalid event is kept in
        the state with its error (never silently dropped); a repeated one does nothing."""
        try:
            event = raw if isinstance(raw, model) else model.model_validate(raw)
        except ValidationError as err:
            event_id = raw.get("event_id") if isinstance(raw, dict) else None
            self._s.rejected_events = _bounded(
                [
                    *self._s.rejected_events,
                    RejectedEvent(
                        signal=signal,
                        event_id=str(event_id) if event_id is not None else None,
                        error=_short_error(err),
                        at=workflow.now(),
                    ),
                ],
                KEEP_REJECTED,
            )
            workflow.logger.warning("rejected %s event %s: %s", signal, event_id, _short_error(err))
            return
        key = f"{signal}:{event.event_id}"
        if key in self._seen:
            return
        self._seen.add(key)
        self._m.seen_event_ids.append(key)
        if len(self._m.seen_event_ids) > KEEP_SEEN_EVENTS:
            self._seen.discard(self._m.seen_event_ids.pop(0))
        self._events_this_run += 1
        if self._s.mode == Mode.CLOSED:
            workflow.logger.info("%s event %s after close: recorded only", signal, event.event_id)
            return
        handle(event)

    def _on_reply(self, event: ReplyEvent) -> None:
        nurture = self._m.nurture
        after_check_in = bool(
            nurture and nurture.check_in and self._m.last_touch_step == nurture.check_in.key
        )
        until = event.until
        if until is not None:
            problem = rules.reply_until_problem(self._local_morning(until), workflow.now())
            if problem is not None:
                workflow.logger.info("reply %s: date ignored, %s", event.event_id, problem)
                until = None
        effect = rules.reply_effect(
            self._s.mode,
            event.intent,
            after_check_in=after_check_in,
            until=until,
            explanation=event.explanation,
        )
        self._apply(effect, note=event.text[:1000])

    def _on_engagement(self, event: EngagementEvent) -> None:
        clicks = 0
        if event.kind == "click" and not event.automated and event.content_id:
            piece = event.content_id
            clicks = self._s.human_clicks.get(piece, 0)
            if event.at is not None and workflow.patched(names.PATCH_CLICK_VISITS):
                if rules.is_same_visit(self._m.last_click_at.get(piece), event.at):
                    self._apply(rules.Effect(f"click on '{piece}' in the same visit: counted once"))
                    return
                self._m.last_click_at[piece] = event.at
                if len(self._m.last_click_at) > KEEP_CLICKED_PIECES:
                    self._m.last_click_at.pop(next(iter(self._m.last_click_at)))
            clicks += 1
            self._s.human_clicks[piece] = clicks
        elif event.kind in ("sms_opt_out", "sms_opt_in"):
            self._s.sms_opted_out = event.kind == "sms_opt_out"
        self._apply(rules.engagement_effect(self._s.mode, event, clicks))

    # ----------------------------------------------------------------- updates
    # Updates rather than signals: support staff need to know the command was
    # accepted, and why not when it was refused.

    @workflow.update(name="snooze")
    def snooze(self, command: SnoozeInput | dict[str, Any]) -> LeadState:
        command = _parse_command(SnoozeInput, command)
        end = self._snooze_end(command, workflow.now())
        self._snooze_until(end, command.reason or f"snoozed until {end.date().isoformat()}")
        return self._s

    @snooze.validator
    def _check_snooze(self, command: SnoozeInput | dict[str, Any]) -> None:
        command = _parse_command(SnoozeInput, command)
        self._refuse(rules.closed_problem(self._s.mode, self._s.outcome))
        now = workflow.now()
        self._refuse(rules.snooze_problem(self._snooze_end(command, now), now))

    def _snooze_end(self, command: SnoozeInput, now: datetime) -> datetime:
        return rules.snooze_end(command, now, self._lead.timezone)

    def _snooze_until(self, end: datetime, reason: str) -> None:
        self._hold(Mode.SNOOZED, reason)
        self._s.snoozed_until = self._scaled_end(end)
        self._m.resume_mode = None
        self._m.remaining_seconds = None
        self._refresh()

    def _local_morning(self, day: date) -> datetime:
        """9:00 on `day` in the lead's zone: when a pause or snooze ending that day ends."""
        return rules.pause_end(day, self._lead.timezone) or workflow.now()

    def _scaled_end(self, end: datetime) -> datetime:
        now = workflow.now()
        return now + rules.scaled(end - now, self._input.speedup)

    @workflow.update(name="pause")
    def pause(self, command: PauseInput | dict[str, Any]) -> LeadState:
        command = _parse_command(PauseInput, command)
        self._hold(Mode.PAUSED, command.reason, until=self._pause_end(command))
        return self._s

    @pause.validator
    def _check_pause(self, command: PauseInput | dict[str, Any]) -> None:
        command = _parse_command(PauseInput, command)
        self._refuse(rules.closed_problem(self._s.mode, self._s.outcome))
        end = rules.pause_end(command.until, self._lead.timezone)
        self._refuse(rules.pause_problem(self._s.mode, end, workflow.now()))

    def _pause_end(self, command: PauseInput) -> datetime | None:
        end = rules.pause_end(command.until, self._lead.timezone)
        if end is None:
            return None
        now = workflow.now()
        return now + rules.scaled(end - now, self._input.speedup)

    @workflow.update(name="resume")
    def resume(self, command: ResumeInput | dict[str, Any]) -> LeadState:
        command = _parse_command(ResumeInput, command)
        self._resume(command.note or "resumed by staff")
        return self._s

    @resume.validator
    def _check_resume(self, command: ResumeInput | dict[str, Any]) -> None:
        command = _parse_command(ResumeInput, command)
        self._refuse(rules.closed_problem(self._s.mode, self._s.outcome))
        self._refuse(rules.resume_problem(self._s.mode))

    @workflow.update(name="move")
    def move(self, command: MoveInput | dict[str, Any]) -> LeadState:
        command = _parse_command(MoveInput, command)
        self._enter(Mode(command.to), command.reason or f"moved to {command.to} by staff")
        return self._s

    @move.validator
    def _check_move(self, command: MoveInput | dict[str, Any]) -> None:
        command = _parse_command(MoveInput, command)
        self._refuse(rules.closed_problem(self._s.mode, self._s.outcome))
        self._refuse(rules.move_problem(self._s.mode, command.to))

    @workflow.update(name="close")
    def close(self, command: CloseInput | dict[str, Any]) -> LeadState:
        command = _parse_command(CloseInput, command)
        self._set_mode(Mode.CLOSED, command.note or f"closed as {command.outcome}", Outcome(command.outcome))
        return self._s

    @close.validator
    def _check_close(self, command: CloseInput | dict[str, Any]) -> None:
        command = _parse_command(CloseInput, command)
        self._refuse(rules.closed_problem(self._s.mode, self._s.outcome))

    @workflow.update(name="complete_task")
    def complete_task(self, command: CompleteTaskInput | dict[str, Any]) -> LeadState:
        command = _parse_command(CompleteTaskInput, command)
        task = next(t for t in self._s.open_tasks if t.task_id == command.task_id)
        self._s.open_tasks = [t for t in self._s.open_tasks if t.task_id != command.task_id]
        done = task.model_copy(update={"done": True, "result": command.result})
        self._s.done_tasks = _bounded([*self._s.done_tasks, done], KEEP_DONE_TASKS)
        self._version += 1
        return self._s

    @complete_task.validator
    def _check_complete_task(self, command: CompleteTaskInput | dict[str, Any]) -> None:
        command = _parse_command(CompleteTaskInput, command)
        self._refuse(rules.closed_problem(self._s.mode, self._s.outcome))
        if not any(t.task_id == command.task_id for t in self._s.open_tasks):
            open_ids = ", ".join(t.task_id for t in self._s.open_tasks) or "none"
            raise CommandRejected(f"no open task {command.task_id!r}; open tasks: {open_ids}")

    @staticmethod
    def _refuse(problem: str | None) -> None:
        if problem:
            raise CommandRejected(problem)

    # ------------------------------------------------------------------- query

    @workflow.query(name="state")
    def state(self) -> LeadState:
        return self._s

    # ------------------------------------------------------------- visibility

    def _refresh(self) -> None:
        """Derive the displayed cadence, step and next touch from the current mode."""
        mode = self._s.mode
        cadence, step, at, label = None, None, None, None
        if mode in rules.CADENCE_MODES and self._m.follow_up and self._m.nurture:
            definition = self._cadence(mode)
            if mode == Mode.NURTURE or self._m.step_index < len(definition.steps):
                current, label = self._current_step(mode)
                cadence, step, at = definition.ref, current.key, self._m.due_at
        elif mode == Mode.SNOOZED and self._m.nurture:
            definition = self._m.nurture
            current = definition.check_in or rules.rotation_step(definition, self._m.nurture_rotation)
            cadence, step, at = definition.ref, current.key, self._s.snoozed_until
            label = f"snoozed until {at:%Y-%m-%d}: {current.purpose}" if at else current.purpose
        if at is not None and step is not None and self._m.planned_for == f"{step}@{at.isoformat()}":
            at, label = self._m.send_at, f"{label} · {self._m.send_label}"
        self._s.cadence, self._s.step, self._s.next_touch_at, self._s.next_touch = cadence, step, at, label

    def _publish(self) -> None:
        """Keep search attributes and the UI's current details in step with the state."""
        s = self._s
        wanted: dict[str, Any] = {
            sa.LEAD_MODE.name: s.mode.value,
            sa.LEAD_STEP.name: s.step,
            # The id alone, as the client sets it at enroll: one form to query by.
            sa.LEAD_CADENCE.name: s.cadence.split("@")[0] if s.cadence else None,
            sa.LEAD_OWNER.name: self._lead.owner,
            sa.LEAD_SEGMENT.name: self._lead.segment,
            sa.LEAD_NEXT_TOUCH_AT.name: s.next_touch_at,
            sa.LEAD_OUTCOME.name: s.outcome.value if s.outcome else None,
        }
        keys = {key.name: key for key in sa.ALL}
        updates = [
            keys[name].value_set(value) if value is not None else keys[name].value_unset()
            for name, value in wanted.items()
            if self._published.get(name, _UNSET) != value
        ]
        if updates:
            workflow.upsert_search_attributes(updates)
            self._published = wanted
        workflow.set_current_details(_details(s))


_UNSET = object()


def _details(s: LeadState) -> str:
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


def _bounded(items: list[Any], keep: int) -> list[Any]:
    return items[-keep:]


def _short_error(err: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in e['loc']) or 'event'}: {e['msg']}" for e in err.errors()
    )


def _parse_command(model: type[Any], raw: Any) -> Any:
    """Commands arrive as the model or, when they do not fit it, as raw JSON: then the
    caller gets pydantic's explanation instead of an opaque decoding failure."""
    if isinstance(raw, model):
        return raw
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        raise CommandRejected(f"invalid command: {_short_error(err)}") from None


def _rejection(err: ActivityError) -> str | None:
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.type == names.DELIVERY_REJECTED:
        return cause.message
    return None


def _blocking_problem(err: ActivityError | ApplicationError) -> str | None:
    """The message of an error a retry cannot fix (bad template, unknown cadence)."""
    cause = err.cause if isinstance(err, ActivityError) else err
    if isinstance(cause, ApplicationError) and cause.type in (
        names.TEMPLATE_ERROR,
        names.UNKNOWN_CADENCE,
        names.INVALID_SEND_WINDOW,
    ):
        return cause.message
    return None
