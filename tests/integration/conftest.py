"""Integration fixtures: one real dev server per session, a worker per test module.

Everything binds to 127.0.0.1. The server is the `temporal` binary from this
virtualenv (nothing is downloaded); each module gets its own task queue and its own
outbox directory so modules never see each other's leads or files.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from tests.integration.helpers import RunningWorker
from workers.settings import Settings
from workers.worker import build_worker
from workflows import search_attributes


@pytest_asyncio.fixture(scope="session")
async def temporal_env(temporal_bin: Path) -> AsyncIterator[WorkflowEnvironment]:
    # port=None: the SDK picks a free port on the loopback address.
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_bin),
        search_attributes=search_attributes.ALL,
        data_converter=pydantic_data_converter,
        ip="127.0.0.1",
        port=None,
        ui=False,
    ) as env:
        yield env


@pytest_asyncio.fixture(scope="module")
async def worker(
    temporal_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningWorker]:
    """A worker in this process on a fresh task queue, delivering into a tmp outbox."""
    client = temporal_env.client
    address = client.service_client.config.target_host
    task_queue = f"it-{uuid.uuid4().hex[:12]}"
    var_dir = tmp_path_factory.mktemp("var")
    settings = Settings(temporal_address=address, task_queue=task_queue, var_dir=var_dir)
    running = build_worker(client, settings)
    async with running:
        yield RunningWorker(client=client, address=address, task_queue=task_queue, outbox=settings.delivery.outbox_dir)
    executor = running.config().get("activity_executor")
    if executor is not None:
        executor.shutdown()
