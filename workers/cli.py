"""The `touchpoint` console script: the lead commands of starter/cli.py, with the settings
they read, and before them the commands that run a process."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import NoReturn

from starter import cli
from workers import ingest, worker
from workers.process import exit_without_teardown
from workers.settings import Settings
from workers.web import server as web

# Command -> (help, the process's main); listed in this order.
PROCESSES: dict[str, tuple[str, Callable[[], NoReturn]]] = {
    "worker": ("run the worker (LeadWorkflow and its activities)", worker.main),
    "web": (
        "serve the HTTP app: the codec endpoint for the Temporal UI, the one-click unsubscribe links, health",
        web.main,
    ),
    "ingest": (
        "deliver SES events, inbound replies and texts from SQS to their leads (TOUCHPOINT_INGEST)",
        ingest.main,
    ),
}


def build_parser() -> argparse.ArgumentParser:
    return cli.build_parser(Settings, add_commands=_add_processes)


def _add_processes(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for command, (summary, _) in PROCESSES.items():
        commands.add_parser(command, help=summary, description=summary)


def main(argv: Sequence[str] | None = None) -> NoReturn:
    args = build_parser().parse_args(argv)
    if args.command in PROCESSES:
        _, run = PROCESSES[args.command]
        run()
    # The SDK's Rust threads can abort interpreter shutdown of a short-lived client
    # process ("PyGILState_Release", temporalio/sdk-python#300): end without teardown.
    exit_without_teardown(cli.run(args))
