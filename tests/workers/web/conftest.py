"""The web app as its tests meet it: built by `create_app` with their collaborators and
served by uvicorn on a free loopback port, on the test's own event loop."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from temporalio.client import Client

from activities.stores.ledger import SqliteSendLedger
from starter.connection import TemporalConnection, connect
from tests.support.privacy import shared_codec
from workers.web.server import WebServer

Serve = Callable[[FastAPI], AbstractAsyncContextManager[httpx.AsyncClient]]


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """`app` on 127.0.0.1 (the OS picks the port), and an HTTP client pointed at it."""
    async with WebServer(app, host="127.0.0.1", port=0) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            yield client


@pytest.fixture
def serve() -> Serve:
    return serving


@pytest.fixture
def ledger(tmp_path: Path) -> SqliteSendLedger:
    return SqliteSendLedger(tmp_path / "ledger.sqlite3")


async def no_temporal() -> Client:
    """For apps whose test needs no Temporal: nothing listens on port 9 (discard)."""
    return await connect(TemporalConnection(temporal_address="127.0.0.1:9"), codec=shared_codec())
