"""A fault run: leads on a fast clock while the worker is SIGKILLed, the server is
restarted and every inbound event arrives three times.

The worker is `python -m workers`, started as an operator would (TOUCHPOINT_* pointing
at this run's server, task queue and outbox). The server keeps its state in a SQLite
file, so a restart on the same port loses nothing Temporal had accepted. Afterwards
the outbox and each lead's `state` are compared (`tests.faults.checks`).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.service import RPCError

from activities.content.cadences import CadenceStore
from starter.client import EnrollFailure, TouchpointClient
from starter.errors import TouchpointError
from tests.bench.leads import enroll_input
from tests.bench.phases import count_files, run_all
from tests.bench.server import DevServer
from tests.bench.settings import explicit_settings, worker_env
from tests.bench.worker_process import WorkerProcess
from tests.faults.checks import FaultCounts, count_faults, read_outbox, read_reply_tasks
from workflows import names
from workflows.models import EngagementEvent, LeadState, Mode, ReplyEvent

DAY = 86_400.0
# A send cut off by SIGKILL is retried once its start-to-close timeout (2 minutes in
# workflows/lead.py) has passed: the run waits that long for the last ones.
ACTIVITY_TIMEOUT = 120.0
# The send ledger holds a key claimed by a killed attempt "in doubt" this long before
# sending it (activities/stores/ledger.py). Its default is 600 s; it must exceed the activity
# timeout. The run uses the shortest safe grace: it changes how long such a touch
# waits, not whether it is sent exactly once.
IN_DOUBT_GRACE = ACTIVITY_TIMEOUT + 30
SEND_RETRY_SECONDS = 90.0
CHECK_CONCURRENCY = 20


@dataclass(frozen=True, kw_only=True)
class FaultPlan:
    leads: int = 300
    # One cadence day in real seconds. At 10 s the follow-up takes 100 s and the first
    # nurture touch comes 300 s after it: after the run has been checked.
    day_seconds: float = 10.0
    worker_kills: int = 3
    server_restarts: int = 1
    reply_share: float = 0.2
    open_share: float = 0.2
    copies: int = 3
    seed: int = 7
    # Disrupt only in the pause after a burst of touches, when no send is in flight, so
    # no send waits out its 2-minute timeout (the small test's time budget). Otherwise
    # each disruption comes at a random moment of the follow-up.
    between_touches: bool = False


@dataclass(kw_only=True)
class FaultReport:
    plan: FaultPlan
    counts: FaultCounts
    seconds: float
    worker_kills: int = 0
    server_restarts: int = 0
    # Times the worker was found dead without having been killed (then restarted).
    worker_exits: int = 0
    replied: int = 0
    opened: int = 0
    signals_sent: int = 0
    # Sends the run repeated itself after an error (the SDK first retries an unavailable
    # server on its own, so most downtime never shows here).
    signal_retries: int = 0
    # Email attempts after the first (a send cut off by a kill or a lost completion),
    # and how many of those found the send already done and sent nothing.
    email_retries: int = 0
    email_retries_already_sent: int = 0
    settled: bool = True
    work_dir: str = ""

    def lines(self) -> list[str]:
        c = self.counts
        return [
            f"fault run: {c.leads} leads, {self.worker_kills} worker SIGKILLs + restarts, "
            f"{self.server_restarts} server restarts, {self.plan.copies} copies of every event "
            f"({self.replied} replies, {self.opened} opens: {self.signals_sent} signals) in {self.seconds:.0f} s",
            f"  unexpected worker exits   {self.worker_exits}",
            f"  email attempts retried    {self.email_retries} ({self.email_retries_already_sent} found it already sent)",
            f"  settled before deadline   {'yes' if self.settled else 'NO'}",
            f"  emails in the outbox      {c.emails}",
            f"  lost touches              {c.lost_touches}",
            f"  duplicate touches         {c.duplicate_touches}",
            f"  unrecorded emails         {c.unrecorded_emails}",
            f"  leads in the wrong mode   {c.wrong_modes}",
            f"  repeated event effects    {c.repeated_event_effects}",
            f"  result                    {'PASS' if c.failures == 0 else 'FAIL'}",
        ]


@dataclass(kw_only=True)
class _Run:
    plan: FaultPlan
    rng: random.Random
    server: DevServer
    client: Client
    worker: WorkerProcess
    touchpoint: TouchpointClient
    outbox: Path
    lead_ids: list[str]
    replied: set[str]
    events: list[tuple[str, str, Any]]
    report: FaultReport
    follow_up_steps: list[str] = field(default_factory=list)
    worker_down: bool = False

    @property
    def window(self) -> float:
        """Real seconds of one pass through the follow-up cadence."""
        return self.follow_up_days * self.plan.day_seconds

    @property
    def follow_up_days(self) -> int:
        return CadenceStore().get("follow-up").steps[-1].day or 0

    # --------------------------------------------------------------- faults

    async def kill_worker(self, *, while_down: Callable[[], Awaitable[None]] | None = None) -> None:
        self.worker_down = True
        await self.worker.kill()
        self.report.worker_kills += 1
        if while_down is not None:
            await while_down()
        await asyncio.sleep(self.rng.uniform(0.2, 2.0))
        await self.worker.start()
        self.worker_down = False

    async def restart_server(self) -> None:
        await asyncio.to_thread(self.server.stop)
        await asyncio.sleep(self.rng.uniform(1.0, 3.0))
        await self.server.start()
        self.report.server_restarts += 1

    async def supervise(self) -> None:
        """Restart a worker that died without being killed, and count it."""
        while True:
            await asyncio.sleep(0.5)
            if not self.worker_down and not self.worker.alive:
                self.report.worker_exits += 1
                await self.worker.start()

    # --------------------------------------------------------------- events

    async def send(self, lead_id: str, signal: str, event: Any) -> None:
        """One delivery of one event; retried (bounded) while the server is down."""
        deadline = time.monotonic() + SEND_RETRY_SECONDS
        while True:
            try:
                if signal == "reply":
                    await self.touchpoint.reply(lead_id, event)
                else:
                    await self.touchpoint.engagement(lead_id, event)
                self.report.signals_sent += 1
                return
            except (TouchpointError, RPCError):
                if time.monotonic() > deadline:
                    raise
                self.report.signal_retries += 1
                await asyncio.sleep(0.5)

    async def send_copy(self) -> None:
        """One copy of every event, in a random order."""
        order = self.rng.sample(self.events, k=len(self.events))
        await run_all((lambda e=e: self.send(*e) for e in order), concurrency=CHECK_CONCURRENCY)

    async def send_at_random_moments(self, copies: int) -> None:
        moments = sorted(
            ((self.rng.uniform(0, self.window), e) for e in self.events for _ in range(copies)), key=lambda m: m[0]
        )
        started = time.monotonic()

        async def deliver(at: float, event: tuple[str, str, Any]) -> None:
            await asyncio.sleep(max(0.0, started + at - time.monotonic()))
            await self.send(*event)

        async with asyncio.TaskGroup() as group:
            for at, event in moments:
                group.create_task(deliver(at, event))

    # ------------------------------------------------------------- schedules

    async def disrupt_at_random_moments(self) -> None:
        disruptions = ["kill"] * self.plan.worker_kills + ["server"] * self.plan.server_restarts
        moments = sorted((self.rng.uniform(0.05, 0.9) * self.window, kind) for kind in disruptions)
        started = time.monotonic()
        for at, kind in moments:
            await asyncio.sleep(max(0.0, started + at - time.monotonic()))
            await (self.kill_worker() if kind == "kill" else self.restart_server())

    async def disrupt_between_touches(self) -> None:
        """Disruption k follows the k-th burst of touches, once its emails are all on disk.

        The first copy of every event goes out at once (a reply's rep task is created
        then, not at a kill), the second while the worker is dead, the rest after.
        """
        disruptions = ["kill"] * self.plan.worker_kills + ["server"] * self.plan.server_restarts
        if len(disruptions) > len(self.follow_up_steps) - 1:
            raise ValueError(f"at most {len(self.follow_up_steps) - 1} disruptions fit between touches")
        await self.send_copy()
        expected = len(self.lead_ids) - len(self.replied)
        for index, kind in enumerate(disruptions):
            step = self.follow_up_steps[index + 1]
            deadline = time.monotonic() + self.window + ACTIVITY_TIMEOUT
            while count_files(self.outbox, containing=step) < expected:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the {step} emails were not all sent")
                await asyncio.sleep(0.1)
            await asyncio.sleep(self.rng.uniform(0.5, 1.5))
            if kind == "kill":
                await self.kill_worker(while_down=self.send_copy if index == 0 else None)
            else:
                await self.restart_server()
        for _ in range(self.plan.copies - 2 if self.plan.worker_kills else self.plan.copies - 1):
            await self.send_copy()

    # ---------------------------------------------------------------- checks

    async def settle(self, seconds: float) -> bool:
        """Wait until every lead has done all it should and has nothing in flight."""
        deadline = time.monotonic() + seconds
        waiting = list(self.lead_ids)
        while waiting:
            done = await run_all((lambda lead=lead: self.is_settled(lead) for lead in waiting), concurrency=CHECK_CONCURRENCY)
            waiting = [lead for lead, ok in zip(waiting, done, strict=True) if not ok]
            if waiting and time.monotonic() > deadline:
                return False
            if waiting:
                await asyncio.sleep(2)
        return True

    async def is_settled(self, lead_id: str) -> bool:
        try:
            state = await self.touchpoint.state(lead_id)
        except TouchpointError:
            return False
        if lead_id in self.replied:
            if state.mode != Mode.AWAITING_REP:
                return False
        elif state.mode != Mode.NURTURE or not set(self.follow_up_steps) <= {t.step for t in state.touches}:
            return False
        description = await self.client.get_workflow_handle(names.workflow_id(lead_id)).describe()
        return not description.raw_description.pending_activities

    async def states(self) -> dict[str, LeadState]:
        states = await run_all(
            (lambda lead=lead: self.touchpoint.state(lead) for lead in self.lead_ids), concurrency=CHECK_CONCURRENCY
        )
        return dict(zip(self.lead_ids, states, strict=True))


def email_retries(worker_log: Path) -> tuple[int, int]:
    """From the worker's JSON log: send_email attempts after the first, and of those the
    ones that found the touch already sent (the ledger or the outbox caught the repeat)."""
    retries = already_sent = 0
    for line in worker_log.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        event = record.get("event")
        if event in ("email sent", "email already sent") and (record.get("attempt") or 1) > 1:
            retries += 1
            already_sent += event == "email already sent"
    return retries, already_sent


async def run_faults(plan: FaultPlan, work_dir: Path) -> FaultReport:
    """Run the plan; every process it starts is stopped before it returns or raises."""
    started = time.monotonic()
    rng = random.Random(plan.seed)
    server = DevServer(db_file=work_dir / "temporal.db", log_file=work_dir / "temporal-server.log")
    worker: WorkerProcess | None = None
    supervisor: asyncio.Task[None] | None = None
    try:
        client = await server.start()
        settings = explicit_settings(
            temporal_address=server.address,
            task_queue=f"faults-{uuid.uuid4().hex[:8]}",
            var_dir=work_dir / "var",
            log_format="json",
        )
        env = worker_env(settings, TOUCHPOINT_LEDGER=json.dumps({"in_doubt_grace_seconds": IN_DOUBT_GRACE}))
        worker = WorkerProcess.touchpoint(env=env, log_file=work_dir / "worker.log")
        await worker.start()
        touchpoint = TouchpointClient(client, task_queue=settings.connection.task_queue)
        lead_ids = [f"fault-{i}" for i in range(plan.leads)]
        speedup = DAY / plan.day_seconds
        results = await touchpoint.enroll_many(
            enroll_input(lead_id, i, speedup=speedup) for i, lead_id in enumerate(lead_ids)
        )
        failures = [r for r in results if isinstance(r, EnrollFailure)]
        if failures:
            raise RuntimeError(f"{len(failures)} leads not enrolled, e.g. {failures[0]}")

        replied = set(rng.sample(lead_ids, k=round(plan.reply_share * plan.leads)))
        opened = rng.sample(lead_ids, k=round(plan.open_share * plan.leads))
        events: list[tuple[str, str, Any]] = [
            (lead, "reply", ReplyEvent(event_id=f"reply-{lead}", text="Interesting - can we talk next week?"))
            for lead in sorted(replied)
        ] + [
            (lead, "engagement", EngagementEvent(event_id=f"open-{lead}", kind="open", content_id="case-study"))
            for lead in opened
        ]
        assert settings.delivery.outbox_dir is not None and settings.delivery.tasks_file is not None
        report = FaultReport(
            plan=plan,
            counts=FaultCounts(
                leads=0, emails=0, lost_touches=0, duplicate_touches=0,
                unrecorded_emails=0, wrong_modes=0, repeated_event_effects=0,
            ),
            seconds=0.0,
            replied=len(replied),
            opened=len(opened),
            work_dir=str(work_dir),
        )  # fmt: skip
        run = _Run(
            plan=plan,
            rng=rng,
            server=server,
            client=client,
            worker=worker,
            touchpoint=touchpoint,
            outbox=settings.delivery.outbox_dir,
            lead_ids=lead_ids,
            replied=replied,
            events=events,
            report=report,
            follow_up_steps=[step.key for step in CadenceStore().get("follow-up").steps],
        )
        supervisor = asyncio.create_task(run.supervise())
        if plan.between_touches:
            await run.disrupt_between_touches()
        else:
            await asyncio.gather(run.disrupt_at_random_moments(), run.send_at_random_moments(plan.copies))
        report.settled = await run.settle(run.window + IN_DOUBT_GRACE + 60 + 60)
        supervisor.cancel()
        report.counts = count_faults(
            states=await run.states(),
            emails=read_outbox(settings.delivery.outbox_dir),
            reply_tasks=read_reply_tasks(settings.delivery.tasks_file),
            replied=replied,
            follow_up_steps=run.follow_up_steps,
        )
        report.email_retries, report.email_retries_already_sent = email_retries(worker.log_file)
        report.seconds = time.monotonic() - started
        return report
    finally:
        if supervisor is not None:
            supervisor.cancel()
        if worker is not None:
            await worker.stop()
        server.stop()
