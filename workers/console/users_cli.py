"""`touchpoint console-user hash`: the argon2 hash of a password for TOUCHPOINT_CONSOLE's users."""

from __future__ import annotations

import argparse
import getpass
import sys

from workers.console.auth import hash_password

COMMAND = "console-user"
MIN_PASSWORD = 12


def add_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    summary = "hash a console user's password (for TOUCHPOINT_CONSOLE users)"
    parser = commands.add_parser(COMMAND, help=summary, description=summary)
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("hash", help="read a password (prompted, or one line on stdin) and print its argon2 hash")


def run(_args: argparse.Namespace) -> int:
    password = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    if len(password) < MIN_PASSWORD:
        print(f"touchpoint: a console password needs {MIN_PASSWORD}+ characters", file=sys.stderr)
        return 2
    print(hash_password(password))
    return 0
