"""LeadWorkflow: one enrolled lead, for as long as it lives.

A thin loop: what an event, command or cadence moment does is a row of the transition
table (`workflows.transitions`), carried out on the lead's state by `workflows.lead_machine`;
the schedule is `workflows.cadence`'s. Signal and update handlers are synchronous: they only change
state (and queue rep tasks), so they finish at once and never interleave with a
half-done send. The main loop is the only place that waits, sends and publishes
search attributes.

Determinism: every wait is guarded with `delay > 0` so a zero wait never creates a
timer, and all time comes from `workflow.now()`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RawValue, RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    # `import a.b as c`, not `from a import b`: the sandbox passes a module through only
    # when it is named in full, and `workflows` itself is this module's (sandboxed) parent.
    # This module is loaded afresh for every cached run, these once per worker: code
    # kept there (lead_machine) costs memory once, not per lead.
    import workflows.cadence as rules
    import workflows.errors as errors
    import workflows.lead_machine as machine
    import workflows.names as names
    import workflows.visibility as visibility
    from workflows.models import (
        CADENCE_MODES,
        HOLDING_MODES,
        CadenceDefinition,
        CadenceStep,
        Channel,
        CloseInput,
        CompleteTaskInput,
        DeliveryEvent,
        EngagementEvent,
        EraseInput,
        LeadState,
        LoadCadenceInput,
        Mode,
        MoveInput,
        Outcome,
        PauseInput,
        ReplyEvent,
        ResumeInput,
        SnoozeInput,
        TouchInput,
        TouchResult,
        TriggerEvent,
    )
    from workflows.send_window_models import PlannedSend

ACTIVITY_TIMEOUT = timedelta(minutes=2)
# Unlimited attempts with capped backoff: a provider outage delays touches, never drops them.
ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    non_retryable_error_types=list(names.NON_RETRYABLE_ERRORS),
)
# A run ends (continue-as-new) after this many touches or events even when the
# server has not suggested it yet, so a lead in nurture for years keeps a small history.
MAX_TOUCHES_PER_RUN = 12
MAX_EVENTS_PER_RUN = 2000
# Signals land in the history even when rejected (oversized replies, say): a run this big
# continues as new long before the server's 50 MB limit ends it.
MAX_HISTORY_BYTES = 4 * 1024 * 1024
# How long a lead closed as meeting_booked waits for its deal's outcome (a B2B sales
# cycle after a first meeting rarely runs longer).
DEAL_OUTCOME_WAIT = timedelta(days=180)


@workflow.defn(name=names.WORKFLOW_TYPE)
class LeadWorkflow:
    # The input and every handler's argument arrive undecoded (`*args`, no type hints):
    # a payload that is not what the contract says is then this code's to refuse, with
    # the field named, instead of the SDK's decoding failure retried forever.
    @workflow.init
    def __init__(self, *args: Any) -> None:
        input, self._invalid = errors.enrollment(args, continued=workflow.info().continued_run_id is not None)
        if input is None:
            return
        self._input = input
        self._lead = machine.LeadMachine(input, clock=workflow.now, patched=workflow.patched, log=workflow.logger)
        # Shorthands for the machine's state: never replaced, only changed in place.
        self._m = self._lead.m
        self._s = self._lead.s
        self._run_mode = self._s.mode
        self._published: dict[str, Any] = {}

    # ------------------------------------------------------------------ main loop

    @workflow.run
    async def run(self, *args: Any) -> LeadState:
        if self._invalid is not None:
            # Non-retryable: the same input fails the same way; the caller fixes it and enrolls again.
            raise ApplicationError(self._invalid, type=names.INVALID_ENROLLMENT, non_retryable=True)
        if self._input.memory is None:
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
            if self._s.outcome == Outcome.MEETING_BOOKED and workflow.patched(names.PATCH_DEAL_OUTCOME):
                await self._await_deal_outcome()
            return self._s
        workflow.continue_as_new(self._input.model_copy(update={"memory": self._m}))

    async def _await_deal_outcome(self) -> None:
        """A booked meeting ends the cadence, not the deal: the run stays open (no touch,
        no task) so staff can still close it as won, lost or disqualified. Ends at the
        outcome, after DEAL_OUTCOME_WAIT, or when the history grows large (the outcome
        then stays meeting_booked: nothing is lost, nothing more is recordable)."""
        wait = DEAL_OUTCOME_WAIT / self._input.speedup
        try:
            await workflow.wait_condition(
                lambda: (
                    self._s.outcome != Outcome.MEETING_BOOKED
                    or workflow.info().is_continue_as_new_suggested()
                    or workflow.info().get_current_history_size() >= MAX_HISTORY_BYTES
                ),
                timeout=wait,
                timeout_summary=f"meeting booked: up to {DEAL_OUTCOME_WAIT.days} days for the deal's outcome",
            )
        except TimeoutError:
            workflow.logger.info("no deal outcome within %s days: the lead stays closed as meeting_booked", wait.days)
        await workflow.wait_condition(workflow.all_handlers_finished)
        self._publish()

    def _run_is_long_enough(self) -> bool:
        return (
            self._mode_changed()
            or self._lead.touches_this_run >= MAX_TOUCHES_PER_RUN
            or self._lead.events_this_run >= MAX_EVENTS_PER_RUN
            or workflow.info().is_continue_as_new_suggested()
            or (
                workflow.info().get_current_history_size() >= MAX_HISTORY_BYTES
                and workflow.patched(names.PATCH_REJECTS_WAKE)
            )
        )

    def _mode_changed(self) -> bool:
        """A new mode starts a new run, except a hold (a reply, a pause): the lead then
        waits for a person, its history stays small, and a fresh run would only add a
        workflow task and a sandbox start before staff can read the new state."""
        if self._s.mode == self._run_mode:
            return False
        return not (self._s.mode in HOLDING_MODES and workflow.patched(names.PATCH_HOLD_IN_RUN))

    async def _start(self) -> None:
        # Read the mode after loading: an event can arrive (and change it) meanwhile.
        if await self._load_cadences() and self._s.mode in CADENCE_MODES:
            self._lead.begin(self._s.mode)
        self._lead.refresh()

    async def _advance(self) -> None:
        mode = self._s.mode
        if mode in CADENCE_MODES:
            if not await self._load_cadences():
                return
            if mode == Mode.FOLLOW_UP and self._m.step_index >= len(self._lead.cadence(mode).steps):
                self._lead.finish_sequence()  # resumed after its last step was sent
                return
            if self._m.due_at is None:
                self._lead.begin(mode)
            if not await self._plan_window(self._lead.current_step(mode)[0], self._m.due_at):
                return
            if await self._wait_until(self._s.next_touch_at, self._s.next_touch):
                await self._send_cadence_step(mode)
        elif mode == Mode.SNOOZED:
            if not await self._plan_window(self._lead.check_in_step(), self._s.snoozed_until):
                return
            if await self._wait_until(self._s.next_touch_at, self._s.next_touch):
                await self._send_check_in()
        elif mode == Mode.PAUSED and self._s.paused_until is not None:
            label = f"paused until {self._s.paused_until:%Y-%m-%d %H:%M} UTC, then resume"
            if await self._wait_until(self._s.paused_until, label):
                self._lead.pause_ended()
        else:
            # paused without end, or awaiting a rep: only a command or event moves it.
            version = self._lead.version
            await workflow.wait_condition(lambda: self._lead.version != version)

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
        mode, version = self._s.mode, self._lead.version
        try:
            planned = await workflow.execute_local_activity(
                names.PLAN_SEND,
                self._lead.plan_send_input(step, due),
                result_type=PlannedSend,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=ACTIVITY_RETRY,
            )
        # A local activity's failure arrives as the ApplicationError itself, unwrapped.
        except (ActivityError, ApplicationError) as err:
            problem = errors.blocking_problem(err)
            if problem is None:
                raise
            if self._lead.version == version:
                self._lead.window_blocked(f"step {step.key}: {problem}. Fix the lead's data, then resume")
            return False
        if self._lead.version != version or self._s.mode != mode:
            return False
        self._lead.planned(key, planned)
        if workflow.patched(names.PATCH_PUBLISH_PLANNED):
            # LeadNextTouchAt and the details panel show the planned time, as `state` does.
            self._publish()
        return True

    async def _wait_for_task(self, step: CadenceStep) -> bool:
        """Hold the cadence until the rep completes this step's task, or the wait runs out.
        False when the lead changed meanwhile (a reply, a command)."""
        assert step.wait_for_task_days is not None
        task_id = self._s.touches[-1].send_key
        mode = self._s.mode
        timeout = rules.scaled(timedelta(days=step.wait_for_task_days), self._input.speedup)
        try:
            await workflow.wait_condition(
                lambda: all(t.task_id != task_id for t in self._s.open_tasks) or self._s.mode != mode,
                timeout=timeout,
                timeout_summary=f"waiting up to {step.wait_for_task_days} days: {step.purpose}",
            )
        except asyncio.TimeoutError:
            workflow.logger.info("task %s not done in time: the cadence goes on", task_id)
        return self._s.mode == mode

    async def _wait_until(self, when: datetime | None, label: str | None) -> bool:
        """True when `when` arrives; False when a handler changed the lead first."""
        version = self._lead.version
        delay = (when - workflow.now()).total_seconds() if when else 0.0
        if delay > 0:
            try:
                await workflow.wait_condition(
                    lambda: self._lead.version != version,
                    timeout=delay,
                    timeout_summary=label or "next touch",
                )
                return False
            except asyncio.TimeoutError:
                pass
        return self._lead.version == version

    # --------------------------------------------------------------- cadences

    async def _load_cadences(self) -> bool:
        """Load both cadence definitions once; a lead keeps the versions it started with."""
        try:
            if self._m.follow_up is None:
                self._m.follow_up = await self._load(self._input.follow_up_cadence)
            if self._m.nurture is None:
                self._m.nurture = await self._load(self._input.nurture_cadence)
        except ActivityError as err:
            problem = errors.blocking_problem(err)
            if problem is None:
                raise
            self._lead.cadences_blocked(f"{problem}. Deploy a cadence with that id, then resume", forget=False)
            return False
        problem = rules.cadence_slot_problem(self._m.follow_up, self._m.nurture)
        if problem:
            self._lead.cadences_blocked(problem, forget=True)
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

    async def _send_cadence_step(self, mode: Mode) -> None:
        cadence = self._lead.cadence(mode)
        step, _ = self._lead.current_step(mode)
        if not await self._touch(cadence, step, resume_to=mode):
            return
        if step.wait_for_task_days and not await self._wait_for_task(step):
            return
        self._lead.schedule_next(mode, cadence)

    async def _send_check_in(self) -> None:
        nurture = self._lead.cadence(Mode.NURTURE)
        step = self._lead.check_in_step()
        if not await self._touch(nurture, step, resume_to=Mode.SNOOZED):
            return
        self._lead.checked_in()

    async def _touch(self, cadence: CadenceDefinition, step: CadenceStep, *, resume_to: Mode) -> bool:
        """Render and deliver one step. False when it could not be sent and the lead paused."""
        seq = self._m.touch_seq + 1
        touch = self._lead.touch_input(cadence, step, seq)
        try:
            result = await self._deliver(touch)
        except ActivityError as err:
            rejected = errors.rejection(err)
            if rejected is not None:
                result = TouchResult(send_key=touch.send_key, status="rejected", detail=rejected)
                return self._lead.record(cadence, step, touch, result, seq)
            problem = errors.blocking_problem(err)
            if problem is None:
                raise
            # Pause rather than fail: the lead is kept, the reason is visible, and
            # `resume` retries this same step once the template or data is fixed.
            if self._s.mode == resume_to:
                self._lead.send_blocked(f"step {step.key} could not be sent: {problem}. Fix it, then resume")
            return False
        return self._lead.record(cadence, step, touch, result, seq)

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
        task = self._lead.rep_task(touch)
        result = await self._activity(names.CREATE_REP_TASK, task)
        self._lead.open_task(task)
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

    def _publish(self) -> None:
        """Keep search attributes and the UI's current details in step with the state."""
        wanted = self._lead.search_attributes()
        updates = visibility.search_attribute_updates(self._published, wanted)
        if updates:
            workflow.upsert_search_attributes(updates)
            self._published = wanted
        workflow.set_current_details(visibility.details(self._s))

    # ----------------------------------------------------------------- signals

    @workflow.signal(name=names.SIGNAL_REPLY)
    def reply(self, *args: Any) -> None:
        if self._invalid is None:
            self._lead.receive(names.SIGNAL_REPLY, args, ReplyEvent, self._lead.on_reply)

    @workflow.signal(name=names.SIGNAL_ENGAGEMENT)
    def engagement(self, *args: Any) -> None:
        if self._invalid is None:
            self._lead.receive(names.SIGNAL_ENGAGEMENT, args, EngagementEvent, self._lead.on_engagement)

    @workflow.signal(name=names.SIGNAL_DELIVERY)
    def delivery(self, *args: Any) -> None:
        if self._invalid is None:
            self._lead.receive(names.SIGNAL_DELIVERY, args, DeliveryEvent, self._lead.on_delivery)

    @workflow.signal(name=names.SIGNAL_TRIGGER)
    def trigger(self, *args: Any) -> None:
        if self._invalid is None:
            self._lead.receive(names.SIGNAL_TRIGGER, args, TriggerEvent, self._lead.on_trigger)

    @workflow.signal(dynamic=True)
    def unknown_signal(self, name: str, args: Sequence[RawValue]) -> None:
        """A signal the contract does not have (a typo, an old name): kept as rejected,
        its payload never read."""
        if self._invalid is None:
            known = ", ".join(names.SIGNALS)
            self._lead.reject(name, None, f"unknown signal; LeadWorkflow's signals are {known}")

    # ----------------------------------------------------------------- updates
    # Updates rather than signals: support staff need to know the command was
    # accepted, and why not when it was refused.

    @workflow.update(name=names.UPDATE_SNOOZE)
    def snooze(self, command: SnoozeInput | dict[str, Any]) -> LeadState:
        return self._machine().on_snooze(errors.parse_command(SnoozeInput, command))

    @snooze.validator
    def _check_snooze(self, command: SnoozeInput | dict[str, Any]) -> None:
        self._machine().check_snooze(errors.parse_command(SnoozeInput, command))

    @workflow.update(name=names.UPDATE_PAUSE)
    def pause(self, command: PauseInput | dict[str, Any]) -> LeadState:
        return self._machine().on_pause(errors.parse_command(PauseInput, command))

    @pause.validator
    def _check_pause(self, command: PauseInput | dict[str, Any]) -> None:
        self._machine().check_pause(errors.parse_command(PauseInput, command))

    @workflow.update(name=names.UPDATE_RESUME)
    def resume(self, command: ResumeInput | dict[str, Any]) -> LeadState:
        return self._machine().on_resume(errors.parse_command(ResumeInput, command))

    @resume.validator
    def _check_resume(self, command: ResumeInput | dict[str, Any]) -> None:
        self._machine().check_resume(errors.parse_command(ResumeInput, command))

    @workflow.update(name=names.UPDATE_MOVE)
    def move(self, command: MoveInput | dict[str, Any]) -> LeadState:
        return self._machine().on_move(errors.parse_command(MoveInput, command))

    @move.validator
    def _check_move(self, command: MoveInput | dict[str, Any]) -> None:
        self._machine().check_move(errors.parse_command(MoveInput, command))

    @workflow.update(name=names.UPDATE_CLOSE)
    def close(self, command: CloseInput | dict[str, Any]) -> LeadState:
        return self._machine().on_close(errors.parse_command(CloseInput, command))

    @close.validator
    def _check_close(self, command: CloseInput | dict[str, Any]) -> None:
        self._machine().check_close(errors.parse_command(CloseInput, command))

    @workflow.update(name=names.UPDATE_ERASE)
    def erase(self, command: EraseInput | dict[str, Any]) -> LeadState:
        return self._machine().on_erase(errors.parse_command(EraseInput, command))

    @erase.validator
    def _check_erase(self, command: EraseInput | dict[str, Any]) -> None:
        self._machine().check_erase(errors.parse_command(EraseInput, command))

    @workflow.update(name=names.UPDATE_COMPLETE_TASK)
    def complete_task(self, command: CompleteTaskInput | dict[str, Any]) -> LeadState:
        return self._machine().on_complete_task(errors.parse_command(CompleteTaskInput, command))

    @complete_task.validator
    def _check_complete_task(self, command: CompleteTaskInput | dict[str, Any]) -> None:
        self._machine().check_complete_task(errors.parse_command(CompleteTaskInput, command))

    # ------------------------------------------------------------------- query

    @workflow.query(name=names.QUERY_STATE)
    def state(self) -> LeadState:
        return self._machine().s

    def _machine(self) -> machine.LeadMachine:
        """The lead, for commands and the query; refused when the enrollment was invalid."""
        if self._invalid is not None:
            raise errors.CommandRejected(self._invalid)
        return self._lead
