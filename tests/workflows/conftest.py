import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.workflows.fakes import Recorder
from workflows.lead import LeadWorkflow
from workflows.sandbox import workflow_runner


@pytest_asyncio.fixture
async def env(time_skipping: Callable[[], Awaitable[WorkflowEnvironment]]) -> WorkflowEnvironment:
    """A time-skipping server per test: leads never end by themselves, and one test's
    timers must not hold up another's clock."""
    return await time_skipping()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest_asyncio.fixture
async def worker(env: WorkflowEnvironment, recorder: Recorder) -> AsyncIterator[Worker]:
    """A worker on a fresh task queue, so no test sees another's leads."""
    async with Worker(
        env.client,
        task_queue=f"test-{uuid.uuid4()}",
        workflows=[LeadWorkflow],
        workflow_runner=workflow_runner(),
        activities=recorder.activities(),
    ) as running:
        yield running


@pytest.fixture
def client(env: WorkflowEnvironment) -> Client:
    return env.client
