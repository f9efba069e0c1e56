"""TouchpointClient: enroll and steer leads from Python, with errors a person can act on.

Every method talks to LeadWorkflow by its public names (workflow type, signal, update
and query names, workflow id `lead-<id>`), so this client needs no workflow code and
works against any worker that serves the contract. Nor does it read the worker's files:
the cadence ids it checks enrollments against are handed in by whoever builds it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError
from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.converter import PayloadCodec
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from starter.connection import TemporalConnection
from starter.connection import connect as connect_temporal
from starter.errors import (
    CommandRejected,
    InvalidInput,
    LeadClosed,
    LeadNotFound,
    NoAnswer,
    PersonErased,
    TemporalUnavailable,
    TouchpointError,
    UnknownCadence,
    explain,
)
from workflows import errors, names
from workflows import search_attributes as sa
from workflows.models import (
    CloseInput,
    CompleteTaskInput,
    DeliveryEvent,
    EngagementEvent,
    EnrollLead,
    Lead,
    LeadState,
    Mode,
    MoveInput,
    PauseInput,
    ReplyEvent,
    ResumeInput,
    SnoozeInput,
    TriggerEvent,
)

ModelT = TypeVar("ModelT", bound=BaseModel)
# Long enough for a busy worker, short enough that a person at a terminal is told
# when no worker is running instead of waiting forever.
DEFAULT_ANSWER_TIMEOUT = timedelta(seconds=30)


@dataclass(frozen=True, kw_only=True)
class EnrollResult:
    lead_id: str
    workflow_id: str
    created: bool
    # Set when the lead was enrolled before and has since been closed: it stays closed.
    closed_outcome: str | None = None


@dataclass(frozen=True, kw_only=True)
class EnrollFailure:
    lead_id: str
    error: TouchpointError


@dataclass(frozen=True, kw_only=True)
class LeadSummary:
    """One row of `list`: what visibility knows without asking the workflow."""

    lead_id: str
    mode: str | None
    next_touch_at: datetime | None
    step: str | None
    owner: str | None
    segment: str | None
    outcome: str | None = None


@dataclass(frozen=True, kw_only=True)
class RunStopped:
    """A lead whose workflow stopped without closing the lead: its state is the last known."""

    lead_id: str
    how: str  # terminated, failed, timed out, cancelled
    at: datetime | None


# How a run can end other than by closing the lead (completed) or continuing as new.
_STOPPED = {
    WorkflowExecutionStatus.TERMINATED: "terminated",
    WorkflowExecutionStatus.FAILED: "failed",
    WorkflowExecutionStatus.TIMED_OUT: "timed out",
    WorkflowExecutionStatus.CANCELED: "cancelled",
}


class ErasedPeople(Protocol):
    """Who must never be enrolled again (activities/privacy/erasure.py keeps the hashes)."""

    def is_erased(self, lead: Lead) -> bool: ...


class TouchpointClient:
    def __init__(
        self,
        client: Client,
        *,
        task_queue: str = names.DEFAULT_TASK_QUEUE,
        email_task_queue: str | None = None,
        known_cadences: Callable[[], Iterable[str]] | None = None,
        answer_timeout: timedelta = DEFAULT_ANSWER_TIMEOUT,
        erased: ErasedPeople | None = None,
    ) -> None:
        """`known_cadences` gives the cadence ids the worker serves; enroll refuses any other
        (UnknownCadence) before anything starts. Asked on the first enroll only, so commands
        that never enroll work even when the cadences cannot be read. None: no check here
        (the worker pauses a lead whose cadence it does not know).
        `email_task_queue` goes into every enrollment that names none.
        `erased`: enroll refuses a lead whose email or phone belongs to an erased person
        (PersonErased); the send activities refuse them too, whoever enrolls them."""
        self.temporal = client
        self._erased = erased
        self.task_queue = task_queue
        self.email_task_queue = email_task_queue
        self._known_cadences = known_cadences
        self._cadence_ids: frozenset[str] | None = None
        self._answer_timeout = answer_timeout

    @classmethod
    async def connect(
        cls,
        connection: TemporalConnection,
        *,
        codec: PayloadCodec,
        known_cadences: Callable[[], Iterable[str]] | None = None,
        answer_timeout: timedelta = DEFAULT_ANSWER_TIMEOUT,
        erased: ErasedPeople | None = None,
    ) -> TouchpointClient:
        try:
            client = await connect_temporal(connection, codec=codec)
        except RuntimeError as error:
            # The SDK reports every failed first contact as RuntimeError("Failed client connect: …").
            raise TemporalUnavailable(connection.temporal_address) from error
        return cls(
            client,
            task_queue=connection.task_queue,
            email_task_queue=connection.email_task_queue,
            known_cadences=known_cadences,
            answer_timeout=answer_timeout,
            erased=erased,
        )

    @property
    def address(self) -> str:
        return self.temporal.service_client.config.target_host

    # ---------------------------------------------------------------- enroll

    async def enroll(self, enroll: EnrollLead | Mapping[str, Any]) -> EnrollResult:
        """Start the lead's workflow unless it exists; an existing lead is never restarted.

        One start request does the check: the server refuses it when the workflow id
        is running (id conflict policy FAIL) or its last run completed (reuse policy
        ALLOW_DUPLICATE_FAILED_ONLY: a closed lead may have unsubscribed, while a run that
        failed, for example on an input that could not be a lead, or was terminated, is no
        lead and may be enrolled again). `created` is therefore
        exact: when two callers enroll the same new lead at once, one gets True and the
        other False. Only a refused start costs a describe, to report `closed_outcome`.
        """
        enroll = _enrollment(enroll)
        if self.email_task_queue and enroll.email_task_queue is None:
            enroll = enroll.model_copy(update={"email_task_queue": self.email_task_queue})
        self._check_cadences(enroll)
        if self._erased is not None and self._erased.is_erased(enroll.lead):
            raise PersonErased(enroll.lead.id)
        lead_id = enroll.lead.id
        workflow_id = names.workflow_id(lead_id)
        async with self._translated(lead_id, "enroll", missing_is_error=False):
            try:
                await self.temporal.start_workflow(
                    names.WORKFLOW_TYPE,
                    enroll,
                    id=workflow_id,
                    task_queue=self.task_queue,
                    id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                    id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
                    search_attributes=initial_search_attributes(enroll),
                    static_summary=summary(enroll),
                )
            except WorkflowAlreadyStartedError:
                existing = await self._describe(lead_id)
                return EnrollResult(
                    lead_id=lead_id,
                    workflow_id=workflow_id,
                    created=False,
                    closed_outcome=_closed_outcome(existing) if existing is not None else None,
                )
        return EnrollResult(lead_id=lead_id, workflow_id=workflow_id, created=True)

    async def enroll_many(
        self,
        leads: Iterable[EnrollLead],
        *,
        concurrency: int = 20,
        on_result: Callable[[EnrollResult | EnrollFailure], None] | None = None,
    ) -> list[EnrollResult | EnrollFailure]:
        """Enroll every lead, `concurrency` at a time; results in input order.

        A bad lead becomes an EnrollFailure and the batch goes on. Losing Temporal
        itself raises TemporalUnavailable: every later lead would fail the same way,
        and running the batch again is safe because enroll never duplicates a lead.
        """
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        pending = list(enumerate(leads))
        results: list[EnrollResult | EnrollFailure | None] = [None] * len(pending)
        queue = iter(pending)

        async def drain() -> None:
            # One shared iterator: each worker coroutine takes the next lead when free.
            for index, enroll in queue:
                outcome: EnrollResult | EnrollFailure
                try:
                    outcome = await self.enroll(enroll)
                except TemporalUnavailable:
                    raise
                except TouchpointError as error:
                    outcome = EnrollFailure(lead_id=enroll.lead.id, error=error)
                results[index] = outcome
                if on_result is not None:
                    on_result(outcome)

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(min(concurrency, len(pending))):
                    group.create_task(drain())
        except ExceptionGroup as group_error:
            raise group_error.exceptions[0] from None
        return [result for result in results if result is not None]

    # --------------------------------------------------------------- signals
    # Fire-and-forget machine events; the workflow deduplicates them by event_id.

    async def reply(self, lead_id: str, event: ReplyEvent | Mapping[str, Any]) -> None:
        await self._signal(lead_id, names.SIGNAL_REPLY, _checked(ReplyEvent, event))

    async def engagement(self, lead_id: str, event: EngagementEvent | Mapping[str, Any]) -> None:
        await self._signal(lead_id, names.SIGNAL_ENGAGEMENT, _checked(EngagementEvent, event))

    async def delivery(self, lead_id: str, event: DeliveryEvent | Mapping[str, Any]) -> None:
        await self._signal(lead_id, names.SIGNAL_DELIVERY, _checked(DeliveryEvent, event))

    async def trigger(self, lead_id: str, event: TriggerEvent | Mapping[str, Any]) -> None:
        await self._signal(lead_id, names.SIGNAL_TRIGGER, _checked(TriggerEvent, event))

    # --------------------------------------------------------------- updates
    # Human commands: validated by the workflow, answered with the new state.

    async def snooze(self, lead_id: str, command: SnoozeInput | Mapping[str, Any]) -> LeadState:
        return await self._update(lead_id, names.UPDATE_SNOOZE, _checked(SnoozeInput, command))

    async def pause(self, lead_id: str, command: PauseInput | Mapping[str, Any]) -> LeadState:
        return await self._update(lead_id, names.UPDATE_PAUSE, _checked(PauseInput, command))

    async def resume(self, lead_id: str, command: ResumeInput | Mapping[str, Any] | None = None) -> LeadState:
        return await self._update(lead_id, names.UPDATE_RESUME, _checked(ResumeInput, command or {}))

    async def move(self, lead_id: str, command: MoveInput | Mapping[str, Any]) -> LeadState:
        return await self._update(lead_id, names.UPDATE_MOVE, _checked(MoveInput, command))

    async def close(self, lead_id: str, command: CloseInput | Mapping[str, Any]) -> LeadState:
        return await self._update(lead_id, names.UPDATE_CLOSE, _checked(CloseInput, command))

    async def complete_task(self, lead_id: str, command: CompleteTaskInput | Mapping[str, Any]) -> LeadState:
        return await self._update(lead_id, names.UPDATE_COMPLETE_TASK, _checked(CompleteTaskInput, command))

    # ----------------------------------------------------------------- reads

    async def state(self, lead_id: str) -> LeadState:
        """The lead's state; also answers for a closed lead while a worker is running."""
        handle = self.temporal.get_workflow_handle(names.workflow_id(lead_id))
        async with self._translated(lead_id, names.QUERY_STATE), self._answered(lead_id, names.QUERY_STATE):
            return await handle.query(names.QUERY_STATE, result_type=LeadState)

    async def stopped(self, lead_id: str) -> RunStopped | None:
        """How the lead's workflow stopped when it was terminated, failed, timed out or was
        cancelled (its `state` still answers, but nothing runs); None otherwise."""
        async with self._translated(lead_id, "describe"):
            description = await self._describe(lead_id)
        if description is None or description.status not in _STOPPED:
            return None
        return RunStopped(lead_id=lead_id, how=_STOPPED[description.status], at=description.close_time)

    async def list(
        self,
        *,
        mode: Mode | str | None = None,
        owner: str | None = None,
        segment: str | None = None,
        limit: int = 100,
    ) -> list[LeadSummary]:
        """Leads from visibility (eventually consistent: a new lead shows up within seconds)."""
        query = visibility_query(mode=mode, owner=owner, segment=segment)
        leads = []
        async with self._listing():
            async for execution in self.temporal.list_workflows(query, limit=limit):
                leads.append(_summary(execution))
        return leads

    async def list_page(
        self,
        *,
        mode: Mode | str | None = None,
        owner: str | None = None,
        segment: str | None = None,
        page_size: int = 50,
        page_token: bytes | None = None,
    ) -> tuple[list[LeadSummary], bytes | None]:
        """One page of `list`, and the token of the next (None on the last)."""
        query = visibility_query(mode=mode, owner=owner, segment=segment)
        async with self._listing():
            pages = self.temporal.list_workflows(query, page_size=page_size, next_page_token=page_token)
            await pages.fetch_next_page()
            rows = [_summary(execution) for execution in pages.current_page or []]
        return rows, pages.next_page_token or None

    async def enrollment(self, lead_id: str) -> EnrollLead:
        """What the lead's current run was started with (its contact details, decoded here
        in the caller's process; the `state` query carries none)."""
        handle = self.temporal.get_workflow_handle(names.workflow_id(lead_id))
        async with self._translated(lead_id, "history"):
            async for event in handle.fetch_history_events(page_size=1):
                payloads = event.workflow_execution_started_event_attributes.input.payloads
                [enroll] = await self.temporal.data_converter.decode(payloads, [EnrollLead])
                return enroll
        raise LeadNotFound(lead_id)

    @asynccontextmanager
    async def _listing(self) -> AsyncIterator[None]:
        try:
            yield
        except RPCError as error:
            if error.status == RPCStatusCode.UNAVAILABLE:
                raise TemporalUnavailable(self.address) from error
            raise TouchpointError(
                f"cannot list leads: {error.message} "
                "(on a new cluster, register the search attributes with `touchpoint setup`)"
            ) from error

    # -------------------------------------------------------------- plumbing

    def _check_cadences(self, enroll: EnrollLead) -> None:
        if self._known_cadences is None:
            return
        if self._cadence_ids is None:
            self._cadence_ids = frozenset(self._known_cadences())
        wanted = (enroll.follow_up_cadence, enroll.nurture_cadence)
        unknown = [cadence for cadence in wanted if cadence not in self._cadence_ids]
        if unknown:
            raise UnknownCadence(unknown, known=sorted(self._cadence_ids))

    async def _signal(self, lead_id: str, name: str, event: BaseModel) -> None:
        handle = self.temporal.get_workflow_handle(names.workflow_id(lead_id))
        async with self._translated(lead_id, name):
            await handle.signal(name, event)

    async def _update(self, lead_id: str, name: str, command: BaseModel) -> LeadState:
        handle = self.temporal.get_workflow_handle(names.workflow_id(lead_id))
        async with self._translated(lead_id, name), self._answered(lead_id, name):
            return await handle.execute_update(name, command, result_type=LeadState)

    async def _describe(self, lead_id: str) -> WorkflowExecutionDescription | None:
        try:
            return await self.temporal.get_workflow_handle(names.workflow_id(lead_id)).describe()
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return None
            raise

    @asynccontextmanager
    async def _answered(self, lead_id: str, command: str) -> AsyncIterator[None]:
        """Bound waits that need a worker: without one, Temporal holds the request open."""
        seconds = self._answer_timeout.total_seconds()
        try:
            async with asyncio.timeout(seconds):
                yield
        except TimeoutError:
            raise NoAnswer(lead_id, command=command, task_queue=self.task_queue, seconds=seconds) from None

    @asynccontextmanager
    async def _translated(self, lead_id: str, command: str, *, missing_is_error: bool = True) -> AsyncIterator[None]:
        """Turn SDK and RPC errors into TouchpointError subclasses with actionable messages."""
        try:
            yield
        except WorkflowUpdateFailedError as error:
            raise CommandRejected(lead_id, command=command, reason=_reason(error.cause)) from error
        except WorkflowQueryFailedError as error:
            raise TouchpointError(f"lead {lead_id} could not answer {command}: {error}") from error
        except RPCError as error:
            if error.status == RPCStatusCode.UNAVAILABLE:
                raise TemporalUnavailable(self.address) from error
            if error.status == RPCStatusCode.NOT_FOUND and missing_is_error:
                # Both "never enrolled" and "already completed" arrive as NOT_FOUND.
                closed = await self._describe(lead_id)
                if closed is None:
                    raise LeadNotFound(lead_id) from error
                raise LeadClosed(lead_id, outcome=_closed_outcome(closed)) from error
            raise TouchpointError(f"Temporal refused {command} for lead {lead_id}: {error.message}") from error


def initial_search_attributes(enroll: EnrollLead) -> TypedSearchAttributes:
    """What ops filter by from the first second; the workflow keeps them current after."""
    pairs = [
        SearchAttributePair(sa.LEAD_MODE, enroll.mode),
        SearchAttributePair(sa.LEAD_CADENCE, _starting_cadence(enroll)),
    ]
    if enroll.lead.owner:
        pairs.append(SearchAttributePair(sa.LEAD_OWNER, enroll.lead.owner))
    if enroll.lead.segment:
        pairs.append(SearchAttributePair(sa.LEAD_SEGMENT, enroll.lead.segment))
    return TypedSearchAttributes(pairs)


def summary(enroll: EnrollLead) -> str:
    """The Web UI's one-line summary. Stored unencrypted: ids only, no email, phone or name."""
    parts = [enroll.mode.replace("_", "-"), f"cadence {_starting_cadence(enroll)}"]
    if enroll.lead.owner:
        parts.append(f"owner {enroll.lead.owner}")
    if enroll.lead.segment:
        parts.append(f"segment {enroll.lead.segment}")
    return " · ".join(parts)


def _summary(execution: WorkflowExecution) -> LeadSummary:
    found = execution.typed_search_attributes
    return LeadSummary(
        lead_id=names.lead_id_of(execution.id),
        mode=found.get(sa.LEAD_MODE),
        next_touch_at=found.get(sa.LEAD_NEXT_TOUCH_AT),
        step=found.get(sa.LEAD_STEP),
        owner=found.get(sa.LEAD_OWNER),
        segment=found.get(sa.LEAD_SEGMENT),
        outcome=found.get(sa.LEAD_OUTCOME),
    )


def visibility_query(*, mode: Mode | str | None, owner: str | None, segment: str | None) -> str:
    """A list filter for leads. Closed leads are listed only when asked for by mode."""
    clauses = [f"WorkflowType = {quote(names.WORKFLOW_TYPE)}"]
    if mode is not None and Mode(mode) == Mode.CLOSED:
        # A lead closed as meeting_booked keeps running, waiting for its deal's outcome.
        clauses.append("ExecutionStatus IN ('Completed', 'Running')")
    else:
        # Earlier runs of a lead (continued-as-new) are not leads of their own.
        clauses.append("ExecutionStatus = 'Running'")
    for key, value in ((sa.LEAD_MODE, mode), (sa.LEAD_OWNER, owner), (sa.LEAD_SEGMENT, segment)):
        if value is not None:
            clauses.append(f"{key.name} = {quote(str(value))}")
    return " AND ".join(clauses)


def quote(value: str) -> str:
    """A visibility string literal; escaping keeps a value from changing the query."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _starting_cadence(enroll: EnrollLead) -> str:
    return enroll.follow_up_cadence if enroll.mode == "follow_up" else enroll.nurture_cadence


def _enrollment(value: EnrollLead | Mapping[str, Any]) -> EnrollLead:
    """The enrollment as the workflow will read it, refused here with the workflow's own
    words (the fields, never their values) instead of failing the run later."""
    data = value.model_dump(by_alias=True) if isinstance(value, BaseModel) else value
    enroll, problem = errors.enrollment((data,), continued=False)
    if enroll is None:
        raise InvalidInput(problem or "invalid enrollment")
    return enroll


def _checked(model: type[ModelT], value: ModelT | Mapping[str, Any]) -> ModelT:
    """Validate before sending: a model may have been changed after it was built."""
    data = value.model_dump(by_alias=True) if isinstance(value, BaseModel) else value
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InvalidInput(f"invalid {model.__name__}: {explain(error)}") from None


def _closed_outcome(description: WorkflowExecutionDescription) -> str | None:
    if description.status == WorkflowExecutionStatus.RUNNING:
        return None
    outcome = description.typed_search_attributes.get(sa.LEAD_OUTCOME)
    if outcome:
        return outcome
    status = description.status
    return status.name.lower() if status is not None else "closed"


def _reason(cause: BaseException) -> str:
    if isinstance(cause, ApplicationError):
        return cause.message
    return str(cause)
