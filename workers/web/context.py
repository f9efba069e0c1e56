"""What the routers share: the collaborators `create_app` was given, in one object on
the app's state, reached through the `Web` dependency. A router with state of its own
(the unsubscribe rate limiter) keeps it in its own module."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from temporalio.client import Client
from temporalio.converter import PayloadCodec

from activities.stores.ledger import SendLedger
from workers.settings import Settings

ConnectTemporal = Callable[[], Awaitable[Client]]
"""Connects to Temporal; raises (RuntimeError, as `starter.connection.connect`) when it cannot."""


class TemporalSource:
    """The Temporal client, given or connected on first use.

    The app starts and serves while Temporal is down: the codec needs no server, an
    unsubscribe is recorded in the ledger first, and /readyz says what is missing. A
    failed connection is tried again by the next request that needs one.
    """

    def __init__(self, temporal: Client | ConnectTemporal) -> None:
        self._client = temporal if isinstance(temporal, Client) else None
        self._connect = None if isinstance(temporal, Client) else temporal
        self._lock = asyncio.Lock()

    async def client(self) -> Client:
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                assert self._connect is not None
                self._client = await self._connect()
        return self._client


@dataclass(frozen=True)
class WebContext:
    settings: Settings
    temporal: TemporalSource
    codec: PayloadCodec
    ledger: SendLedger
    # The stores' SQL database (StoresConfig.database), checked by /readyz.
    database_url: str


def web_context(request: Request) -> WebContext:
    context = request.app.state.web
    assert isinstance(context, WebContext)
    return context


Web = Annotated[WebContext, Depends(web_context)]
