import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.workflows.fakes import Recorder
from workflows import search_attributes
from workflows.lead import LeadWorkflow
from workflows.sandbox import workflow_runner


async def register_search_attributes(client: Client) -> None:
    """The time-skipping server knows no custom search attributes until told."""
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=client.namespace,
            search_attributes={
                key.name: IndexedValueType.ValueType(key.indexed_value_type.value)
                for key in search_attributes.ALL
            },
        )
    )


@pytest_asyncio.fixture
async def env(test_server_bin) -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server per test: leads never end by themselves, and one test's
    timers must not hold up another's clock."""
    async with await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=str(test_server_bin),
    ) as environment:
        await register_search_attributes(environment.client)
        yield environment


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
