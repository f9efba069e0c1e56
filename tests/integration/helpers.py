"""Helpers for integration tests: run a program, poll for an outcome."""

from __future__ import annotations

import asyncio
import inspect
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from temporalio.client import Client, WorkflowExecutionStatus

from tests.support.privacy import privacy_env
from tests.support.servers import BIN

# Generous for a loaded CI machine; polling returns as soon as the condition holds.
WAIT_SECONDS = 30.0
T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class RunningWorker:
    client: Client
    address: str
    task_queue: str
    outbox: Path


@dataclass(frozen=True, kw_only=True)
class Finished:
    code: int
    stdout: str
    stderr: str


def cli_env(worker: RunningWorker) -> dict[str, str]:
    """The environment a user would set, and nothing from the developer's own shell."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("TOUCHPOINT_")}
    env |= {
        "TOUCHPOINT_TEMPORAL_ADDRESS": worker.address,
        "TOUCHPOINT_TASK_QUEUE": worker.task_queue,
        "TOUCHPOINT_NAMESPACE": "default",
        # Wide enough that rich never wraps a line the tests read.
        "COLUMNS": "200",
    }
    # The worker in this process writes with the test keys into the shared key store.
    return env | privacy_env()


def stock_cli_env() -> dict[str, str]:
    """For the `temporal` CLI: flags only, nothing from a developer's TEMPORAL_* settings."""
    return {key: value for key, value in os.environ.items() if not key.startswith("TEMPORAL_")}


async def run(program: str, *args: str, env: dict[str, str], stdin: str | None = None) -> Finished:
    """Run a program without blocking the event loop: the worker lives in this loop."""
    process = await asyncio.create_subprocess_exec(
        str(BIN / program),
        *args,
        env=env,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(WAIT_SECONDS * 2):
        stdout, stderr = await process.communicate(stdin.encode() if stdin is not None else None)
    return Finished(code=process.returncode or 0, stdout=stdout.decode(), stderr=stderr.decode())


async def eventually(check: Callable[[], Awaitable[T] | T], *, what: str, seconds: float = WAIT_SECONDS) -> T:
    """Poll `check` (sync or async) until it returns something truthy; fail naming `what` otherwise."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {seconds:g}s waiting for {what} (last: {result!r})")
        await asyncio.sleep(0.1)


def outbox_files(outbox: Path, lead_id: str) -> list[Path]:
    """The lead's emails in send order (the file name starts with its send key)."""
    return sorted(outbox.glob(f"{lead_id}_*.eml")) if outbox.is_dir() else []


async def completed(client: Client, workflow_id: str) -> bool:
    """True once the workflow has finished (a closed lead's run ends just after `close`)."""
    description = await client.get_workflow_handle(workflow_id).describe()
    return description.status == WorkflowExecutionStatus.COMPLETED
