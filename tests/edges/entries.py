"""Each entry point, fed the corpus. Every function returns one Verdict per case.

The Temporal entry points need a dev server and a worker serving `task_queue`; the
touchpoint CLI runs as the console script a user runs, in a subprocess."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import ApplicationError

from starter.client import TouchpointClient
from starter.errors import TouchpointError
from tests.edges.verdicts import Verdict, cases, judged
from tests.support.privacy import privacy_env
from workflows import names

BIN = Path(sys.executable).parent
RESULT_SECONDS = 30
# Subprocesses at once: the CLI's start-up is mostly import time.
PARALLEL = 4


@dataclass(frozen=True)
class Target:
    """Where the leads go: a dev server and a worker serving `task_queue` on it."""

    client: Client
    address: str
    task_queue: str


@dataclass(frozen=True)
class Ran:
    code: int
    stdout: str
    stderr: str


async def run(program: str, *args: str, env: dict[str, str] | None = None) -> Ran:
    process = await asyncio.create_subprocess_exec(
        str(BIN / program),
        *args,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(120):
        stdout, stderr = await process.communicate()
    return Ran(process.returncode or 0, stdout.decode(errors="replace"), stderr.decode(errors="replace"))


async def bounded(jobs: Iterable[Awaitable[Verdict]], limit: int = PARALLEL) -> list[Verdict]:
    gate = asyncio.Semaphore(limit)

    async def one(job: Awaitable[Verdict]) -> Verdict:
        async with gate:
            return await job

    return list(await asyncio.gather(*(one(job) for job in jobs)))


def cli_env(target: Target, var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TOUCHPOINT_", "TEMPORAL_"))}
    return env | {
        "TOUCHPOINT_TEMPORAL_ADDRESS": target.address,
        "TOUCHPOINT_TASK_QUEUE": target.task_queue,
        "TOUCHPOINT_VAR_DIR": str(var_dir),
        "COLUMNS": "200",
    } | privacy_env()


async def workflow_task_failures(handle: WorkflowHandle) -> int:
    history = await handle.fetch_history()
    return sum(1 for event in history.events if event.HasField("workflow_task_failed_event_attributes"))


async def failed_enrollment(entry: str, case: dict[str, Any], handle: WorkflowHandle) -> Verdict:
    """A start the server took: the run must fail at once, naming the field, never retried."""
    try:
        async with asyncio.timeout(RESULT_SECONDS):
            await handle.result()
    except TimeoutError:
        return Verdict(entry, case["case"], "stuck", f"still running after {RESULT_SECONDS}s")
    except WorkflowFailureError as failure:
        if await workflow_task_failures(handle):
            return Verdict(entry, case["case"], "stuck", "workflow tasks failed before the run ended")
        cause = failure.cause
        if not (isinstance(cause, ApplicationError) and cause.type == names.INVALID_ENROLLMENT and cause.non_retryable):
            return Verdict(entry, case["case"], "unclear", f"failed with {type(cause).__name__}: {cause}")
        return judged(entry, case["case"], cause.message, names=case["names"], sent=case["input"])
    return Verdict(entry, case["case"], "lost", "a bad input ran as a lead")


# ------------------------------------------------------------------ starts


async def stock_cli_starts(target: Target) -> list[Verdict]:
    """`temporal workflow start --input '<json>'`, as a service in any language sends it."""

    async def one(case: dict[str, Any]) -> Verdict:
        workflow_id = f"lead-edge-{uuid.uuid4().hex[:10]}"
        started = await run(
            "temporal", "workflow", "start", "--address", target.address, "--type", names.WORKFLOW_TYPE,
            "--task-queue", target.task_queue, "--workflow-id", workflow_id, "--id-reuse-policy", "RejectDuplicate",
            "--input", json.dumps(case["input"]),
        )  # fmt: skip
        if started.code != 0:
            return Verdict("temporal CLI start", case["case"], "crash", started.stderr)
        return await failed_enrollment("temporal CLI start", case, target.client.get_workflow_handle(workflow_id))

    return await bounded(one(case) for case in cases("start"))


async def python_client_starts(target: Target) -> list[Verdict]:
    """TouchpointClient.enroll with the same JSON: refused before anything starts."""
    touchpoint = TouchpointClient(target.client, task_queue=target.task_queue)
    verdicts = []
    for case in cases("start"):
        try:
            result = await touchpoint.enroll(case["input"])
        except TouchpointError as error:
            message = str(error)
            verdicts.append(
                judged("Python client enroll", case["case"], message, names=case["names"], sent=case["input"])
            )
            continue
        except Exception as error:  # noqa: BLE001 - anything else escaping is what this counts
            verdicts.append(Verdict("Python client enroll", case["case"], "crash", f"{type(error).__name__}: {error}"))
            continue
        handle = target.client.get_workflow_handle(result.workflow_id)
        verdicts.append(await failed_enrollment("Python client enroll", case, handle))
    return verdicts


async def touchpoint_cli_enrolls(target: Target, tmp: Path) -> list[Verdict]:
    """`touchpoint enroll --json FILE` with each case alone: exit 2, one line, the field named."""

    async def one(number: int, case: dict[str, Any]) -> Verdict:
        path = tmp / f"start-{number}.json"
        path.write_text(json.dumps(case["input"]), encoding="utf-8")
        ran = await run("touchpoint", "enroll", "--json", str(path), env=cli_env(target, tmp))
        if isinstance(case["input"], list):
            # A JSON array is a batch by design: each bad item is reported by its number.
            clear = ran.code == 1 and "bad items 1" in ran.stdout and "item 1: " in ran.stdout
            return Verdict("touchpoint enroll --json", case["case"], "clear" if clear else "unclear", ran.stdout)
        message = ran.stderr.strip()
        if ran.code != 2 or "\n" in message or ran.stdout:
            return Verdict("touchpoint enroll --json", case["case"], "crash" if "Traceback" in ran.stderr else "unclear",
                           f"exit {ran.code}: {ran.stdout}{ran.stderr}")  # fmt: skip
        return judged("touchpoint enroll --json", case["case"], message, names=case["names"], sent=case["input"])

    return await bounded(one(n, case) for n, case in enumerate(cases("start")))


# ------------------------------------------------------------------ signals


async def stock_cli_signals(target: Target, start_lead: Callable[[], Awaitable[WorkflowHandle]]) -> list[Verdict]:
    """`temporal workflow signal` with each bad payload, then a valid trigger: the bad one is
    kept as rejected, the lead goes on answering, the trigger still moves it."""

    async def one(case: dict[str, Any]) -> Verdict:
        entry = "temporal CLI signal"
        handle = await start_lead()
        inputs = [arg for value in case["args"] for arg in ("--input", json.dumps(value))]
        common = ["--address", target.address, "--workflow-id", handle.id]
        sent = await run("temporal", "workflow", "signal", *common, "--name", case["signal"], *inputs)
        if sent.code != 0:
            return Verdict(entry, case["case"], "crash", sent.stderr)
        valid = json.dumps({"event_id": "after", "name": "funding_round"})
        after = await run("temporal", "workflow", "signal", *common, "--name", "trigger", "--input", valid)
        if after.code != 0:
            return Verdict(entry, case["case"], "crash", after.stderr)
        return await signal_outcome(entry, case, handle)

    return await bounded(one(case) for case in cases("signals"))


async def signal_outcome(entry: str, case: dict[str, Any], handle: WorkflowHandle) -> Verdict:
    try:
        async with asyncio.timeout(RESULT_SECONDS):
            while True:
                state = await handle.query(names.QUERY_STATE)
                if state["transitions"] and state["transitions"][-1]["reason"] == "trigger: funding_round":
                    break
                if await workflow_task_failures(handle):
                    return Verdict(entry, case["case"], "stuck", "a workflow task failed")
                await asyncio.sleep(0.1)
    except TimeoutError:
        stuck = await workflow_task_failures(handle)
        return Verdict(entry, case["case"], "stuck" if stuck else "lost", "the valid trigger after it had no effect")
    rejected = [r for r in state["rejected_events"] if r["signal"] == case["signal"][:100]]
    if not rejected:
        return Verdict(entry, case["case"], "lost", "not kept among the rejected events")
    return judged(entry, case["case"], rejected[-1]["error"], names=case["error"], sent=case["args"])


async def python_client_signals(target: Target, start_lead: Callable[[], Awaitable[WorkflowHandle]]) -> list[Verdict]:
    """The client's event methods with the payloads they can be given (one object, a known
    signal): each refused before it is sent, naming the field."""
    touchpoint = TouchpointClient(target.client, task_queue=target.task_queue)
    methods = {"reply": touchpoint.reply, "engagement": touchpoint.engagement, "delivery": touchpoint.delivery,
               "trigger": touchpoint.trigger}  # fmt: skip
    entry, verdicts = "Python client events", []
    for case in cases("signals"):
        if case["signal"] not in methods or len(case["args"]) != 1 or not isinstance(case["args"][0], dict):
            continue  # not expressible through a typed method
        handle = await start_lead()
        lead_id = handle.id.removeprefix("lead-")
        try:
            await methods[case["signal"]](lead_id, case["args"][0])
        except TouchpointError as error:
            field = case["error"].split(":")[0]
            verdicts.append(judged(entry, case["case"], str(error), names=field, sent=case["args"]))
            continue
        except Exception as error:  # noqa: BLE001
            verdicts.append(Verdict(entry, case["case"], "crash", f"{type(error).__name__}: {error}"))
            continue
        # Sent as it was: the workflow must keep it as rejected and take the next event.
        await touchpoint.trigger(lead_id, {"event_id": "after", "name": "funding_round"})
        verdicts.append(await signal_outcome(entry, case, handle))
    return verdicts
