"""The `touchpoint` console script: the lead commands of starter/cli.py, with the settings
they read, and before them the commands that run a process."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import NoReturn

from pydantic import ValidationError

from starter import cli
from starter.errors import explain
from workers import ingest, worker
from workers.api import keys_cli
from workers.console import users_cli
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
    keys_cli.add_command(commands)
    users_cli.add_command(commands)


def main(argv: Sequence[str] | None = None) -> NoReturn:
    args = build_parser().parse_args(argv)
    if args.command in PROCESSES:
        _, run = PROCESSES[args.command]
        run()
    if args.command == users_cli.COMMAND:
        exit_without_teardown(users_cli.run(args))
    if args.command == keys_cli.COMMAND:
        exit_without_teardown(keys_cli.run(args, _settings()))
    # The SDK's Rust threads can abort interpreter shutdown of a short-lived client
    # process ("PyGILState_Release", temporalio/sdk-python#300): end without teardown.
    exit_without_teardown(cli.run(args))


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        raise SystemExit(f"touchpoint: invalid settings: {explain(error)}") from None
