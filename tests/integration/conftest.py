"""Integration fixtures: a worker per test module, on the session's dev server.

Each module gets its own task queue and its own outbox directory so modules never see
each other's leads or files.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from tests.integration.helpers import RunningWorker
from tests.support.privacy import privacy_settings
from workers.settings import Settings
from workers.worker import build_worker


@pytest_asyncio.fixture(scope="module")
async def worker(
    dev_server: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningWorker]:
    """A worker in this process on a fresh task queue, delivering into a tmp outbox."""
    client = dev_server.client
    address = client.service_client.config.target_host
    task_queue = f"it-{uuid.uuid4().hex[:12]}"
    var_dir = tmp_path_factory.mktemp("var")
    settings = Settings(temporal_address=address, task_queue=task_queue, var_dir=var_dir, **privacy_settings())
    running = build_worker(client, settings)
    async with running:
        yield RunningWorker(client=client, address=address, task_queue=task_queue, outbox=settings.delivery.outbox_dir)
    executor = running.config().get("activity_executor")
    if executor is not None:
        executor.shutdown()
