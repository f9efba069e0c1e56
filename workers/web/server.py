"""`touchpoint web` (or `python -m workers.web.server`): the app served by uvicorn.

`WebServer` binds its socket when built, so a port in use fails before anything else
starts, and serves on the running event loop until stopped; tests use it as the process
does. The process owns SIGTERM and Ctrl-C (workers/shutdown.py): on either it stops
accepting, answers the requests in flight (up to TOUCHPOINT_GRACEFUL_SHUTDOWN_SECONDS),
and exits 0. It does not wait for Temporal: the app connects on first use.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import NoReturn

import structlog
import uvicorn
from fastapi import FastAPI
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from activities.privacy.codec import build_codec
from starter.connection import connect
from workers.process import BadConfig, payload_codec, run_process
from workers.settings import Settings
from workers.shutdown import stop_signals
from workers.web.app import WebConfigError, create_app

# Variables of the stdlib unsubscribe server this app replaced; set, they would be
# silently ignored, and the app would listen where the operator did not ask.
RENAMED_VARIABLES = {
    "TOUCHPOINT_UNSUBSCRIBE_HOST": "TOUCHPOINT_WEB_HOST",
    "TOUCHPOINT_UNSUBSCRIBE_PORT": "TOUCHPOINT_WEB_PORT",
}

log = structlog.get_logger(__name__)


class _Uvicorn(uvicorn.Server):
    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        # Ours, not uvicorn's: it would re-raise the signal after a clean stop, ending
        # the process by SIGTERM instead of with status 0.
        yield


class WebServer:
    """The app on host:port, served on the running event loop between `start` and `stop`."""

    def __init__(self, app: FastAPI, *, host: str, port: int, graceful_shutdown_seconds: float = 20) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.create_server((host, port), family=family)
        config = uvicorn.Config(
            app,
            # Logging stays ours; uvicorn's access log would write every unsubscribe token.
            log_config=None,
            access_log=False,
            # X-Forwarded-For is trusted only as TOUCHPOINT_UNSUBSCRIBE_FORWARDED_FOR says.
            proxy_headers=False,
            server_header=False,
            lifespan="off",
            timeout_graceful_shutdown=graceful_shutdown_seconds,
        )
        self._server = _Uvicorn(config)
        self._serving: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        host, port = self._socket.getsockname()[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    async def start(self) -> None:
        self._serving = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        while not self._server.started:
            if self._serving.done():
                await self._serving
                raise RuntimeError("the web server stopped while starting")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Stop accepting, answer the requests in flight, close the socket."""
        if self._serving is not None:
            self._server.should_exit = True
            await self._serving
            self._serving = None
        self._socket.close()

    async def __aenter__(self) -> WebServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def serving(self) -> asyncio.Task[None] | None:
        """The task serving the app once started; done early only if the server failed."""
        return self._serving


class PassThroughCodec(PayloadCodec):
    """Payloads as they are: for tests of the endpoint's protocol alone."""

    async def encode(self, payloads: Iterable[Payload]) -> list[Payload]:
        return list(payloads)

    async def decode(self, payloads: Iterable[Payload]) -> list[Payload]:
        return list(payloads)


def endpoint_codec(settings: Settings) -> PayloadCodec:
    """What /encode and /decode serve: the workers' own codec (activities/privacy), which
    hands an erased lead's payloads back still encrypted instead of failing the page."""
    try:
        return build_codec(settings, keep_unreadable=True)
    except ValueError as err:
        raise BadConfig(str(err)) from None


def check_renamed(environ: Mapping[str, str]) -> None:
    for old, new in RENAMED_VARIABLES.items():
        if old in environ:
            raise BadConfig(f"{old} is now {new} (the unsubscribe server became `touchpoint web`): rename it")


async def run_web(settings: Settings) -> None:
    check_renamed(os.environ)
    web = settings.web
    try:
        app = create_app(
            settings,
            temporal=lambda: connect(settings.connection, codec=payload_codec(settings)),
            codec=endpoint_codec(settings),
        )
    except WebConfigError as err:
        raise BadConfig(str(err)) from None
    try:
        server = WebServer(
            app,
            host=web.web_host,
            port=web.web_port,
            graceful_shutdown_seconds=settings.process.graceful_shutdown_seconds,
        )
    except OSError as err:
        log.error("cannot listen", host=web.web_host, port=web.web_port, error=str(err))
        raise SystemExit(1) from None
    with stop_signals() as stop:
        await server.start()
        log.info("web app listening", url=server.url)
        assert server.serving is not None
        await asyncio.wait({stop, server.serving}, return_when=asyncio.FIRST_COMPLETED)
        if stop.done():
            log.info("web app stopping: answering requests in flight", signal=stop.result().name)
        await server.stop()
    log.info("web app stopped")


def main() -> NoReturn:
    """`python -m workers.web.server` and `touchpoint web`."""
    run_process("touchpoint web", run_web)


if __name__ == "__main__":
    main()
