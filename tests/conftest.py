"""The servers tests run against, as fixtures; how each is started is in tests/support/servers.py.

The dev server and moto are one per session: tests keep apart by task queue, lead ids and
(for moto) a reset per test. The time-skipping server is one per test that asks for it.
"""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack

import pytest
import pytest_asyncio
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from temporalio.testing import WorkflowEnvironment

from activities.stores import database
from tests.support import servers

# The AWS fixtures (aws, aws_client, wire, ses), for every folder that talks to moto.
pytest_plugins = ["tests.support.aws"]


@pytest_asyncio.fixture(scope="session")
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    async with await servers.start_dev_server() as environment:
        yield environment


@pytest.fixture
def server_address(dev_server: WorkflowEnvironment) -> str:
    return dev_server.client.service_client.config.target_host


@pytest_asyncio.fixture
async def namespace(dev_server: WorkflowEnvironment) -> str:
    """A namespace of this test's own on the session's dev server: for workflow ids the test
    cannot choose (the bundled example leads), which another test may also start."""
    return await servers.add_namespace(dev_server.client)


@pytest_asyncio.fixture
async def time_skipping() -> AsyncIterator[Callable[[], Awaitable[WorkflowEnvironment]]]:
    """`await time_skipping()`: a time-skipping server for this test alone, stopped after it.
    Its clock is shared by all its clients, so one test's sleep would fire another's timers."""
    async with AsyncExitStack() as started:

        async def start() -> WorkflowEnvironment:
            return await started.enter_async_context(await servers.start_time_skipping_server())

        yield start


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    with servers.moto_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """One PostgreSQL 16 for the session; each test that writes takes a database of its own
    (`postgres_database`)."""
    with servers.postgres_server() as url:
        yield url


@pytest.fixture
def postgres_database(postgres_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test; dropped after it."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(database.sqlalchemy_url(postgres_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        database.engine.cache_clear()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
