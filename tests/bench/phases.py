"""The bench's phases. Each starts the worker it needs, measures, and stops it again.

Every phase gets its own task queue and working directory, so no phase sees another's
leads or files, and every wait is bounded: a stuck phase fails with what it waited for.
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle

from activities.content.cadences import CadenceStore
from starter.client import EnrollFailure, TouchpointClient
from starter.csv_import import read_leads
from tests.bench.baseline import WORKFLOW_TYPE as BARE_WORKFLOW_TYPE
from tests.bench.baseline import BareInput
from tests.bench.leads import enroll_input, write_csv
from tests.bench.server import DevServer
from tests.bench.settings import explicit_settings, worker_env
from tests.bench.worker_process import WorkerProcess
from tests.support.servers import start_time_skipping_server
from workers.settings import Settings
from workers.worker import build_worker
from workflows import names
from workflows.cadence import scaled, sequence_gap
from workflows.models import EnrollLead, LeadState, Mode, ReplyEvent

T = TypeVar("T")

DAY = 86_400.0
YEAR = 365.25 * DAY
# Fast clock of the throughput phases: one cadence day per second, so the follow-up
# takes 10 s a lead and a few hundred leads keep the worker and server saturated.
THROUGHPUT_SPEEDUP = 86_400
# Leads whose histories are read to count the timers actually started per touch.
TIMER_SAMPLE = 20
# Requests in flight at once when the bench starts workflows (enroll_many's default).
START_CONCURRENCY = 20
ENROLL_ROUNDS = 3
POLL_SECONDS = 0.1
# A count over visibility scans every lead of the queue: asked once a second, it costs
# the server little next to the leads it is counting.
VISIBILITY_POLL = 1.0
# Replies a second in the latency phase: far more than a real deployment sees, so the
# figure is measured under load, not on an idle worker.
REPLY_RATE = 10.0


@dataclass(frozen=True, kw_only=True)
class Bench:
    """What every phase shares: the server's client and a directory for its files."""

    client: Client
    server: DevServer
    work_dir: Path
    # When set, py-spy records every worker into this directory (collapsed stacks).
    profile_dir: Path | None = None

    @property
    def address(self) -> str:
        return self.server.address

    def settings(self, phase: str, **overrides: Any) -> Settings:
        """The worker settings of one run of a phase: defaults except queue, files and log
        format. The queue's name is new each time; lead ids start with it (`lead_ids`)."""
        run = f"{phase}-{uuid.uuid4().hex[:8]}"
        return explicit_settings(
            temporal_address=self.address,
            task_queue=run,
            var_dir=self.work_dir / run,
            log_format="json",
            **overrides,
        )

    @asynccontextmanager
    async def worker(self, kind: str, settings: Settings) -> AsyncIterator[WorkerProcess]:
        worker = WorkerProcess.bench(
            kind, env=worker_env(settings), log_file=settings.delivery.var_dir / f"worker-{kind}.log"
        )
        await worker.start()
        try:
            if self.profile_dir is None:
                yield worker
            else:
                output = self.profile_dir / f"{settings.connection.task_queue}-{kind}.txt"
                async with profiled(worker.pid, output):
                    yield worker
        finally:
            await worker.stop()


# ------------------------------------------------------------------ helpers


@asynccontextmanager
async def profiled(pid: int, output: Path) -> AsyncIterator[None]:
    """Sample process `pid` with py-spy (every thread, 100 Hz) while the block runs."""
    py_spy = Path(sys.executable).parent / "py-spy"
    if not py_spy.is_file():
        raise SystemExit(f"--profile needs py-spy: {sys.executable} -m pip install py-spy")
    output.parent.mkdir(parents=True, exist_ok=True)
    spy = await asyncio.create_subprocess_exec(
        str(py_spy), "record", "--pid", str(pid), "--rate", "100", "--format", "raw",
        "--output", str(output), "--nonblocking",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield
    finally:
        if spy.returncode is None:
            spy.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
            try:
                await asyncio.wait_for(spy.wait(), timeout=30)
            except TimeoutError:
                spy.kill()
                await spy.wait()


async def run_all(calls: Iterable[Callable[[], Awaitable[T]]], *, concurrency: int) -> list[T]:
    """Await every call, `concurrency` at a time; results in order."""
    pending = list(enumerate(calls))
    results: list[Any] = [None] * len(pending)
    queue = iter(pending)

    async def drain() -> None:
        for index, call in queue:
            results[index] = await call()

    async with asyncio.TaskGroup() as group:
        for _ in range(min(concurrency, len(pending))):
            group.create_task(drain())
    return results


async def wait_until(
    check: Callable[[], Awaitable[bool] | bool],
    *,
    what: str,
    seconds: float,
    worker: WorkerProcess | None = None,
    every: float = POLL_SECONDS,
) -> None:
    """Poll `check` until true. Fails after `seconds`, or at once when `worker` logs an
    error: a failing workflow task would otherwise only show as a timeout."""
    deadline = time.monotonic() + seconds
    checked_log = time.monotonic()
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if worker is not None and time.monotonic() - checked_log > 2:
            checked_log = time.monotonic()
            if error := worker.first_error():
                raise RuntimeError(f"the worker failed while waiting for {what}: {error}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {seconds:.0f} s waiting for {what}")
        await asyncio.sleep(every)


def count_files(directory: Path, *, containing: str = "") -> int:
    if not directory.is_dir():
        return 0
    with os.scandir(directory) as entries:
        return sum(1 for e in entries if e.name.endswith(".eml") and containing in e.name)


async def count_workflows(client: Client, task_queue: str, condition: str) -> int:
    found = await client.count_workflows(f"TaskQueue = '{task_queue}' AND {condition}")
    return found.count


def follow_up_gaps(speedup: float) -> list[float]:
    """Seconds between the follow-up cadence's touches on the given clock."""
    cadence = CadenceStore().get("follow-up")
    return [scaled(sequence_gap(cadence, i), speedup).total_seconds() for i in range(len(cadence.steps))]


def last_follow_up_step() -> str:
    return CadenceStore().get("follow-up").steps[-1].key


def leads(prefix: str, count: int, *, speedup: float, mode: str = "follow_up") -> list[EnrollLead]:
    return [enroll_input(f"{prefix}-{i}", i, speedup=speedup, mode=mode) for i in range(count)]


def start_lead(client: Client, enroll: EnrollLead, task_queue: str) -> Callable[[], Awaitable[Any]]:
    """A bare start of LeadWorkflow: what any service in any language can send."""
    return lambda: client.start_workflow(
        names.WORKFLOW_TYPE, enroll, id=names.workflow_id(enroll.lead.id), task_queue=task_queue
    )


def percentile(samples: list[float], p: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[p - 1]


# -------------------------------------------------------------- throughput


@dataclass(kw_only=True)
class _CpuMeter:
    """CPU seconds the worker and the server spend between start() and stop()."""

    worker: WorkerProcess
    server: DevServer
    worker_seconds: float = 0.0
    server_seconds: float = 0.0

    def start(self) -> None:
        self.worker_seconds = -self.worker.cpu_seconds()
        self.server_seconds = -self.server.cpu_seconds()

    def stop(self) -> None:
        self.worker_seconds += self.worker.cpu_seconds()
        self.server_seconds += self.server.cpu_seconds()

    def per_touch(self, touches: int) -> dict[str, float]:
        return {
            "worker_cpu_ms_per_touch": self.worker_seconds * 1000 / touches,
            "server_cpu_ms_per_touch": self.server_seconds * 1000 / touches,
        }


async def baseline_throughput(bench: Bench, *, leads_count: int, speedup: float = THROUGHPUT_SPEEDUP) -> dict[str, Any]:
    """Bare workflows with the follow-up's timer spacing: touches/s Temporal itself allows."""
    settings = bench.settings("baseline")
    task_queue = settings.connection.task_queue
    gaps = follow_up_gaps(speedup)
    client = bench.client
    async with bench.worker("baseline", settings) as worker:
        cpu = _CpuMeter(worker=worker, server=bench.server)
        cpu.start()
        started = time.perf_counter()
        handles = await run_all(
            (
                (lambda i=i: client.start_workflow(
                    BARE_WORKFLOW_TYPE, BareInput(gaps=gaps), id=f"{task_queue}-{i}", task_queue=task_queue
                ))
                for i in range(leads_count)
            ),
            concurrency=START_CONCURRENCY,
        )  # fmt: skip

        # Long polls: each returns the moment its workflow completes, no polling load.
        async with asyncio.timeout(60 + leads_count * 0.5):
            await run_all((handle.result for handle in handles), concurrency=len(handles))
        seconds = time.perf_counter() - started
        cpu.stop()
    touches = leads_count * len(gaps)
    return {
        "leads": leads_count,
        "touches": touches,
        "seconds": seconds,
        "touches_per_s": touches / seconds,
        **cpu.per_touch(touches),
        "timers_per_touch": await timers_per_touch(client, handles[:TIMER_SAMPLE], {"bench_noop"}),
    }


async def touchpoint_throughput(
    bench: Bench, *, leads_count: int, speedup: float = THROUGHPUT_SPEEDUP, kind: str = "touchpoint"
) -> dict[str, Any]:
    """Leads through the whole follow-up cadence, each touch rendered and written to the outbox.

    The run ends when every lead's last follow-up email is on disk. Leads done early
    go on to nurture meanwhile (a month is 30 s on this clock): those touches are real
    work done in the same time, so every .eml file counts.
    """
    settings = bench.settings(kind)
    outbox = settings.delivery.outbox_dir
    assert outbox is not None
    last_step = last_follow_up_step()
    enrolls = leads(settings.connection.task_queue, leads_count, speedup=speedup)
    async with bench.worker(kind, settings) as worker:
        cpu = _CpuMeter(worker=worker, server=bench.server)
        cpu.start()
        started = time.perf_counter()
        handles = await run_all(
            (start_lead(bench.client, enroll, settings.connection.task_queue) for enroll in enrolls),
            concurrency=START_CONCURRENCY,
        )
        await wait_until(
            lambda: count_files(outbox, containing=last_step) >= leads_count,
            what=f"{leads_count} leads to send their last follow-up email",
            seconds=60 + leads_count * 1.0,
            worker=worker,
        )
        seconds = time.perf_counter() - started
        touches = count_files(outbox)
        cpu.stop()
    return {
        "leads": leads_count,
        "touches": touches,
        "follow_up_touches": leads_count * len(CadenceStore().get("follow-up").steps),
        "seconds": seconds,
        "touches_per_s": touches / seconds,
        **cpu.per_touch(touches),
        "timers_per_touch": await timers_per_touch(bench.client, handles[:TIMER_SAMPLE], {names.SEND_EMAIL}),
    }


async def throughput(
    bench: Bench, *, leads_count: int, speedup: float = THROUGHPUT_SPEEDUP, rounds: int = 2
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The baseline and Touchpoint runs in the order B T T B (for two rounds), so that a
    change in the machine's other load over the minutes falls on both alike. Each
    figure adds up the runs of its kind: all touches over all seconds."""
    runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "touchpoint": []}
    for round_index in range(rounds):
        order = ("baseline", "touchpoint") if round_index % 2 == 0 else ("touchpoint", "baseline")
        for kind in order:
            measure = baseline_throughput if kind == "baseline" else touchpoint_throughput
            runs[kind].append(await measure(bench, leads_count=leads_count, speedup=speedup))
    return _combined(runs["baseline"]), _combined(runs["touchpoint"])


async def codec_cost(
    bench: Bench, *, leads_count: int, speedup: float = THROUGHPUT_SPEEDUP, rounds: int = 2
) -> dict[str, Any]:
    """Worker CPU per touch with the payload codec and without (`plaintext`: decodes, never
    encrypts), in the order P T T P, so the machine's other load falls on both alike."""
    runs: dict[str, list[dict[str, Any]]] = {"plaintext": [], "touchpoint": []}
    for round_index in range(rounds):
        order = ("plaintext", "touchpoint") if round_index % 2 == 0 else ("touchpoint", "plaintext")
        for kind in order:
            runs[kind].append(await touchpoint_throughput(bench, leads_count=leads_count, speedup=speedup, kind=kind))
    plaintext, encrypted = _combined(runs["plaintext"]), _combined(runs["touchpoint"])
    return {
        "plaintext": plaintext,
        "encrypted": encrypted,
        "worker_cpu_ratio": encrypted["worker_cpu_ms_per_touch"] / plaintext["worker_cpu_ms_per_touch"],
    }


def _combined(runs: list[dict[str, Any]]) -> dict[str, Any]:
    touches = sum(run["touches"] for run in runs)
    seconds = sum(run["seconds"] for run in runs)

    def weighted(key: str) -> float:
        return sum(run[key] * run["touches"] for run in runs) / touches

    return {
        "leads": runs[0]["leads"],
        "runs": len(runs),
        "touches": touches,
        "seconds": seconds,
        "touches_per_s": touches / seconds,
        "worker_cpu_ms_per_touch": weighted("worker_cpu_ms_per_touch"),
        "server_cpu_ms_per_touch": weighted("server_cpu_ms_per_touch"),
        "timers_per_touch": statistics.mean(run["timers_per_touch"] for run in runs),
        "each_run": runs,
    }


# -------------------------------------------------------------- enrollment


async def enrollment(bench: Bench, *, leads_count: int, rounds: int = ENROLL_ROUNDS) -> dict[str, Any]:
    """Leads started per second: bare start_workflow, enroll_many, and CSV import.

    No worker polls this phase's queue, so only the client and server are measured.
    All three run at enroll_many's default concurrency, `rounds` times each in turns
    (the order rotating), and each reports its median round: other load on the machine
    then falls on all three alike.
    """
    settings = bench.settings("enroll")
    task_queue = settings.connection.task_queue
    client = bench.client
    touchpoint = TouchpointClient(client, task_queue=task_queue)
    csv_dir = settings.delivery.var_dir
    csv_dir.mkdir(parents=True, exist_ok=True)
    # Warm up the connection and the cadence check so no variant pays for them.
    await run_all(
        (start_lead(client, e, task_queue) for e in leads(f"{task_queue}-warm-bare", 20, speedup=1)), concurrency=20
    )
    await touchpoint.enroll_many(leads(f"{task_queue}-warm-many", 20, speedup=1))

    async def bare(prefix: str) -> None:
        enrolls = leads(prefix, leads_count, speedup=1)
        started = time.perf_counter()
        await run_all((start_lead(client, e, task_queue) for e in enrolls), concurrency=START_CONCURRENCY)
        rates["bare"].append(leads_count / (time.perf_counter() - started))

    async def many(prefix: str) -> None:
        enrolls = leads(prefix, leads_count, speedup=1)
        started = time.perf_counter()
        results = await touchpoint.enroll_many(enrolls, concurrency=START_CONCURRENCY)
        rates["enroll_many"].append(leads_count / (time.perf_counter() - started))
        _check_created(results, leads_count)

    async def csv(prefix: str) -> None:
        csv_file = csv_dir / f"{prefix}.csv"
        write_csv(csv_file, [f"{prefix}-{i}" for i in range(leads_count)])
        started = time.perf_counter()
        parsed = read_leads(csv_file, speedup=1)
        results = await touchpoint.enroll_many((row.enroll for row in parsed.leads), concurrency=START_CONCURRENCY)
        rates["csv_import"].append(leads_count / (time.perf_counter() - started))
        _check_created(results, leads_count)

    rates: dict[str, list[float]] = {"bare": [], "enroll_many": [], "csv_import": []}
    variants = [("bare", bare), ("many", many), ("csv", csv)]
    for round_index in range(rounds):
        turn = variants[round_index % 3 :] + variants[: round_index % 3]
        for name, variant in turn:
            await variant(f"{task_queue}-{name}-{round_index}")
    median = {name: statistics.median(values) for name, values in rates.items()}
    return {
        "leads": leads_count,
        "rounds": rounds,
        "concurrency": START_CONCURRENCY,
        "bare_per_s": median["bare"],
        "enroll_many_per_s": median["enroll_many"],
        "csv_import_per_s": median["csv_import"],
        "enroll_many_ratio": median["enroll_many"] / median["bare"],
        "csv_import_ratio": median["csv_import"] / median["bare"],
        "rounds_per_s": {name: [round(v, 1) for v in values] for name, values in rates.items()},
    }


def _check_created(results: list[Any], expected: int) -> None:
    failures = [r for r in results if isinstance(r, EnrollFailure)]
    created = sum(1 for r in results if not isinstance(r, EnrollFailure) and r.created)
    if failures or created != expected:
        raise RuntimeError(f"enrollment went wrong: {created}/{expected} created, failures: {failures[:3]}")


# ------------------------------------------------- cached leads and replies


async def cached_leads(bench: Bench, *, leads_count: int, replies: int, warmup: int = 200) -> dict[str, Any]:
    """Worker memory per cached lead, then reply-to-stop latency on those same leads.

    The leads run on the real clock, so after enrolling each waits days for its first
    touch, held in the worker's cache. Memory is the worker process's RSS after a full
    collection, before and after `leads_count` more leads (past a warm-up that loads
    the templates, the sandbox and the models once).
    """
    settings = bench.settings("cached", max_cached_workflows=warmup + leads_count + 100)
    task_queue = settings.connection.task_queue
    client = bench.client

    async def idle(expected: int) -> bool:
        # LeadMode is published in the task that starts the first wait: the lead is idle.
        return await count_workflows(client, task_queue, "LeadMode = 'follow_up'") >= expected

    async with bench.worker("touchpoint", settings) as worker:
        await run_all(
            (start_lead(client, e, task_queue) for e in leads(f"{task_queue}-warm", warmup, speedup=1)),
            concurrency=50,
        )
        await wait_until(
            lambda: idle(warmup), what=f"{warmup} warm-up leads to wait", seconds=120, worker=worker, every=VISIBILITY_POLL
        )
        rss_before = await worker.rss_after_gc()
        cpu = _CpuMeter(worker=worker, server=bench.server)
        cpu.start()
        started = time.perf_counter()
        await run_all(
            (start_lead(client, e, task_queue) for e in leads(task_queue, leads_count, speedup=1)), concurrency=50
        )
        await wait_until(
            lambda: idle(warmup + leads_count),
            what=f"{leads_count} leads to wait for their first touch",
            seconds=120 + leads_count * 0.2,
            worker=worker,
            every=VISIBILITY_POLL,
        )
        settle_seconds = time.perf_counter() - started
        cpu.stop()
        rss_after = await worker.rss_after_gc()
        touchpoint = TouchpointClient(client, task_queue=task_queue)
        latency = await reply_latency(touchpoint, [f"{task_queue}-{i}" for i in range(min(replies, leads_count))])
    return {
        "memory": {
            "cached_leads": leads_count,
            "warmup_leads": warmup,
            "rss_before_mib": rss_before / 2**20,
            "rss_after_mib": rss_after / 2**20,
            "kib_per_lead": (rss_after - rss_before) / leads_count / 1024,
            "enroll_to_idle_seconds": settle_seconds,
            "worker_cpu_ms_per_lead": cpu.worker_seconds * 1000 / leads_count,
            "server_cpu_ms_per_lead": cpu.server_seconds * 1000 / leads_count,
        },
        "reply_latency": latency,
    }


async def reply_latency(touchpoint: TouchpointClient, lead_ids: list[str], *, rate: float = REPLY_RATE) -> dict[str, Any]:
    """Time from sending `reply` until the `state` query shows the lead awaiting its rep.

    Replies go out on a fixed schedule, `rate` a second, whether or not earlier ones
    have been answered (an open loop: a slow answer cannot hold back the next reply and
    hide its own delay). Each reply is followed by `state` queries in a loop with no
    sleep; the clock stops at the first answer showing `awaiting_rep`, so the figure
    includes the round trip of the query that saw it.
    """
    samples: list[float] = []
    polls = 0

    async def one(lead_id: str, at: float) -> None:
        nonlocal polls
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        event = ReplyEvent(event_id=f"bench-{lead_id}", text="Thanks - can we talk on Thursday?")
        started = time.perf_counter()
        await touchpoint.reply(lead_id, event)
        async with asyncio.timeout(30):
            while True:
                polls += 1
                state: LeadState = await touchpoint.state(lead_id)
                if state.mode == Mode.AWAITING_REP:
                    break
        samples.append((time.perf_counter() - started) * 1000)

    begin = time.perf_counter() + 0.1
    async with asyncio.TaskGroup() as group:
        for index, lead_id in enumerate(lead_ids):
            group.create_task(one(lead_id, begin + index / rate))
    return {
        "replies": len(samples),
        "rate_per_s": rate,
        "p50_ms": percentile(samples, 50),
        "p95_ms": percentile(samples, 95),
        "p99_ms": percentile(samples, 99),
        "max_ms": max(samples),
        "queries_per_reply": polls / len(samples),
    }


# ------------------------------------------------------------------ history


async def history_per_year(
    bench: Bench, *, leads_count: int, years: int = 2, months_per_second: float = 1.0
) -> dict[str, Any]:
    """History events per lead per simulated year of nurture, over every run of the lead.

    Leads start in nurture on a clock where `months_per_second` months pass each real
    second, and run until `years` runs have ended in continue-as-new. Each lead's chain
    is then followed from its first run; the whole runs are counted (the first one
    includes enrolling and loading the cadences) and divided by the simulated time
    they cover.
    """
    speedup = YEAR / 12 * months_per_second
    settings = bench.settings("history")
    task_queue = settings.connection.task_queue
    client = bench.client
    enrolls = leads(settings.connection.task_queue, leads_count, speedup=speedup, mode="nurture")
    async with bench.worker("touchpoint", settings) as worker:
        handles = await run_all((start_lead(client, e, task_queue) for e in enrolls), concurrency=20)

        async def all_continued() -> bool:
            states = await run_all(
                (lambda h=h: h.query("state", result_type=LeadState) for h in handles), concurrency=20
            )
            return all(state.run > years for state in states)

        await wait_until(
            all_continued,
            what=f"{leads_count} leads to live {years} simulated years",
            seconds=60 + years * 12 / months_per_second * 3,
            worker=worker,
        )
        chains = await run_all(
            (lambda h=h: run_chain(client, h.id, h.first_execution_run_id) for h in handles), concurrency=10
        )
    return {"leads": leads_count, "simulated_years": years, **_events_per_year(chains, years=years, speedup=speedup)}


async def history_per_year_real_clock(work_dir: Path, *, leads_count: int, years: int = 2) -> dict[str, Any]:
    """The same count on the real clock (speedup 1), where each touch is also planned into
    the lead's send window (a local activity, recorded in the history), which fast-clock
    leads skip. A simulated year passes in seconds on the time-skipping test server; the
    worker is in this process, built by `build_worker` with the real activities."""
    async with await start_time_skipping_server() as env:
        client = env.client
        run = f"history-real-{uuid.uuid4().hex[:8]}"
        settings = explicit_settings(task_queue=run, var_dir=work_dir / run)
        worker = build_worker(client, settings)
        async with worker:
            handles = await run_all(
                (start_lead(client, e, run) for e in leads(run, leads_count, speedup=1, mode="nurture")),
                concurrency=leads_count,
            )
            # Past the last continue-as-new counted; the server skips the time in between.
            await env.sleep(timedelta(days=365.25 * years + 45))
            chains = await run_all(
                (lambda h=h: run_chain(client, h.id, h.first_execution_run_id) for h in handles), concurrency=10
            )
        executor = worker.config().get("activity_executor")
        if executor is not None:
            executor.shutdown()
    if min(len(runs) for runs in chains) <= years:
        raise RuntimeError(f"leads did not reach {years} continue-as-new in the skipped time: {[len(r) for r in chains]}")
    return {"leads": leads_count, "simulated_years": years, **_events_per_year(chains, years=years, speedup=1)}


def _events_per_year(chains: list[list[list[Any]]], *, years: int, speedup: float) -> dict[str, Any]:
    """Events per lead per simulated year over each chain's first `years` whole runs."""
    per_year = []
    late = 0
    for runs in chains:
        whole = runs[:years]
        late += sum(_late_touches(run) for run in whole)
        events = sum(len(run) for run in whole)
        first, last = whole[0][0].event_time.ToDatetime(), whole[-1][-1].event_time.ToDatetime()
        per_year.append(events / ((last - first).total_seconds() * speedup / YEAR))
    return {
        "events_per_lead_year": statistics.mean(per_year),
        "events_per_lead_year_max": max(per_year),
        "events_per_run": [statistics.mean(len(runs[i]) for runs in chains) for i in range(years)],
        # Touches sent with no timer because the worker fell behind the clock; above 0
        # the figure is too low (the clock is too fast for this machine).
        "late_touches": late,
    }


def _late_touches(events: list[Any]) -> int:
    sends = sum(
        1
        for e in events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and e.activity_task_scheduled_event_attributes.activity_type.name == names.SEND_EMAIL
    )
    timers = sum(1 for e in events if e.event_type == EventType.EVENT_TYPE_TIMER_FIRED)
    return max(0, sends - timers)


async def run_chain(client: Client, workflow_id: str, first_run_id: str | None) -> list[list[Any]]:
    """The events of every run of one workflow, following continue-as-new from `first_run_id`."""
    runs = []
    run_id = first_run_id
    while run_id is not None:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        events = list(history.events)
        runs.append(events)
        last = events[-1]
        run_id = None
        if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            run_id = last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
    return runs


async def timers_per_touch(client: Client, handles: list[WorkflowHandle[Any, Any]], touch_activities: set[str]) -> float:
    """Timers started per touch in the first runs of the workflows `handles` started.

    Below 1 when the worker fell behind the fast clock: a touch already due is sent
    without a timer (both the baseline and LeadWorkflow follow that rule).
    """
    timers = touches = 0
    for started in handles:
        first_run = client.get_workflow_handle(started.id, run_id=started.first_execution_run_id)
        async for event in first_run.fetch_history_events():
            if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
                timers += 1
            elif (
                event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
                and event.activity_task_scheduled_event_attributes.activity_type.name in touch_activities
            ):
                touches += 1
            elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
                break
    return timers / touches if touches else 0.0
