"""What every Touchpoint process shares: reading the settings, connecting to Temporal, and
how it ends. The worker, `touchpoint ingest`, the unsubscribe server and the local demo
all run through `run_process`, so each fails the same way for the same reason."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Any, NoReturn

import structlog
from pydantic import ValidationError
from temporalio.client import Client
from temporalio.converter import PayloadCodec

from activities.content.cadences import CadenceError
from activities.content.templates import TemplateRenderError
from activities.privacy.codec import build_codec
from starter.connection import connect
from workers.logging import configure_logging
from workers.settings import Settings

# Exit status for configuration an operator must fix (settings, cadences, templates):
# restarting the process cannot help, and orchestrators can tell it from a crash.
EXIT_BAD_CONFIG = 2

log = structlog.get_logger(__name__)


class BadConfig(Exception):
    """Configuration an operator must fix, found by the process itself; the message says what to set."""


def run_process(name: str, run: Callable[[Settings], Coroutine[Any, Any, None]]) -> NoReturn:
    """Read the settings, configure logging, run `run`, and exit. Configuration an
    operator must fix ends the process with its message and exit status 2, never a traceback."""
    try:
        settings = Settings()
    except ValidationError as err:
        print(f"{name}: invalid settings\n{err}", file=sys.stderr)
        sys.exit(EXIT_BAD_CONFIG)
    configure_logging(settings)
    try:
        asyncio.run(run(settings))
        status = 0
    except BadConfig as err:
        print(f"{name}: {err}", file=sys.stderr)
        status = EXIT_BAD_CONFIG
    except (CadenceError, TemplateRenderError) as err:
        # Printed as is: the message lists one problem per line, each naming file, step and field.
        print(f"{name}: invalid cadence or template, not started\n{err}", file=sys.stderr)
        status = EXIT_BAD_CONFIG
    except KeyboardInterrupt:
        # A second Ctrl-C while stopping: in-flight activities are abandoned; the server
        # retries them once their timeout passes.
        print(f"{name}: forced stop", file=sys.stderr)
        status = 130
    except SystemExit as stop:
        status = _exit_status(stop)
    exit_without_teardown(status)


def payload_codec(settings: Settings) -> PayloadCodec:
    """The payload codec from the settings. No key configured is an operator's mistake: the
    process stops (exit status 2) rather than write a lead's data in clear."""
    try:
        return build_codec(settings)
    except ValueError as err:
        raise BadConfig(str(err)) from None


async def connect_or_exit(settings: Settings) -> Client:
    """The Temporal client, with the payload codec, or exit status 1 with the reason logged
    (status 2 when no payload key is configured)."""
    connection = settings.connection
    codec = payload_codec(settings)
    try:
        client = await connect(connection, codec=codec)
    except RuntimeError as err:
        log.error("cannot connect to Temporal", address=connection.temporal_address, error=str(err))
        raise SystemExit(1) from None
    log.info("connected", address=connection.temporal_address, namespace=connection.namespace)
    return client


def _exit_status(stop: SystemExit) -> int:
    """The status `sys.exit` would give: a message is printed and means 1."""
    if stop.code is None or isinstance(stop.code, int):
        return stop.code or 0
    print(stop.code, file=sys.stderr)
    return 1


def exit_without_teardown(status: int) -> NoReturn:
    """Exit once everything has stopped, skipping interpreter teardown: the SDK's Rust
    threads may call into Python while it finalizes, which crashes a process that shut
    down cleanly (SIGABRT or SIGSEGV instead of 0; temporalio/sdk-python#300)."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
