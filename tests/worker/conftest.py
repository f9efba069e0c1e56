import logging
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio import activity, workflow
from temporalio.testing import WorkflowEnvironment

from workflows import search_attributes


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees only the TOUCHPOINT_* variables it sets."""
    for name in list(os.environ):
        if name.startswith("TOUCHPOINT_"):
            monkeypatch.delenv(name)


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """configure_logging changes process-wide state; put it back for the next test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    on_message = workflow.logger.workflow_info_on_message, activity.logger.activity_info_on_message
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    workflow.logger.workflow_info_on_message, activity.logger.activity_info_on_message = on_message


@pytest_asyncio.fixture(scope="session")
async def dev_server(temporal_bin: Path) -> AsyncIterator[WorkflowEnvironment]:
    """A real dev server on a free port, with Touchpoint's search attributes registered."""
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_bin),
        search_attributes=search_attributes.ALL,
    ) as environment:
        yield environment


@pytest.fixture
def server_address(dev_server: WorkflowEnvironment) -> str:
    return dev_server.client.service_client.config.target_host
