"""`python -m tests.bench.bench_worker touchpoint|plaintext|baseline`: a worker in a process of its own.

`plaintext` is the Touchpoint worker with a codec that decodes but does not encrypt:
the codec's cost per touch is the difference between it and `touchpoint`.

Reads its settings from TOUCHPOINT_* like `python -m workers`, and logs the same way.
It says `ready` on stdout once it polls, answers each `gc` line on stdin with
`rss <bytes>` after a full collection, and stops when stdin closes, so it never
outlives the bench that started it.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import psutil
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.converter import PayloadCodec
from temporalio.worker import Worker

from activities.privacy.codec import build_codec
from starter.connection import connect
from tests.bench.baseline import BareWorkflow, noop
from workers.logging import configure_logging
from workers.settings import Settings
from workers.worker import build_worker
from workflows.sandbox import workflow_runner

KINDS = ("touchpoint", "plaintext", "baseline")


class DecodeOnly(PayloadCodec):
    """Reads what the bench's (encrypting) client sends; writes plaintext."""

    def __init__(self, codec: PayloadCodec) -> None:
        self._codec = codec

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return await self._codec.decode(payloads)


def build_baseline_worker(client: Client, settings: Settings) -> Worker:
    """Configured like `workers.worker.build_worker`, with the bare workflow instead."""
    return Worker(
        client,
        task_queue=settings.connection.task_queue,
        workflows=[BareWorkflow],
        workflow_runner=workflow_runner(),
        activities=[noop],
        activity_executor=ThreadPoolExecutor(
            max_workers=settings.process.max_concurrent_activities, thread_name_prefix="bench-activity"
        ),
        max_concurrent_activities=settings.process.max_concurrent_activities,
        max_cached_workflows=settings.process.max_cached_workflows,
        graceful_shutdown_timeout=timedelta(seconds=settings.process.graceful_shutdown_seconds),
    )


async def serve(kind: str) -> None:
    settings = Settings()
    configure_logging(settings)
    codec = build_codec(settings)
    client = await connect(settings.connection, codec=DecodeOnly(codec) if kind == "plaintext" else codec)
    worker = build_baseline_worker(client, settings) if kind == "baseline" else build_worker(client, settings)
    loop = asyncio.get_running_loop()
    async with worker:
        print("ready", flush=True)
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            if line.strip() == "gc":
                gc.collect()
                print(f"rss {psutil.Process().memory_info().rss}", flush=True)
    executor = worker.config().get("activity_executor")
    if executor is not None:
        executor.shutdown()


def main() -> None:
    if len(sys.argv) != 2 or sys.argv[1] not in KINDS:
        raise SystemExit(f"usage: python -m tests.bench.bench_worker {'|'.join(KINDS)}")
    asyncio.run(serve(sys.argv[1]))
    # As `python -m workers` does: skip interpreter teardown, which the SDK's Rust
    # threads can crash (temporalio/sdk-python#300).
    logging.shutdown()
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
