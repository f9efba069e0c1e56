"""Catching the signals that stop a process: SIGTERM from an orchestrator, SIGINT from Ctrl-C."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from contextlib import contextmanager

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def stop_signals() -> Iterator[asyncio.Future[signal.Signals]]:
    """While open, a stop signal resolves the yielded future instead of ending the process.

    Must be entered inside the running event loop, before whatever it protects starts,
    so that a signal arriving at any moment after that is seen. The first signal
    removes the handlers, so a second Ctrl-C gets Python's default behaviour and forces
    the exit when a clean stop takes too long.
    """
    loop = asyncio.get_running_loop()
    received: asyncio.Future[signal.Signals] = loop.create_future()

    def remove_handlers() -> None:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)

    def on_signal(sig: signal.Signals) -> None:
        remove_handlers()
        if not received.done():
            received.set_result(sig)

    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        yield received
    finally:
        remove_handlers()
