"""`touchpoint api-key create|list|revoke`: the HTTP API's keys, in the stores' database."""

from __future__ import annotations

import argparse
import sys

from activities.stores.api_keys import SCOPES, ApiKeyStore
from workers.settings import Settings

COMMAND = "api-key"


def add_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    summary = "create, list or revoke keys for the HTTP API (/v1)"
    parser = commands.add_parser(COMMAND, help=summary, description=summary)
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="a new key, printed once (only its hash is kept)")
    create.add_argument("--name", required=True, help="who uses it, e.g. crm-sync")
    create.add_argument(
        "--scope",
        action="append",
        choices=SCOPES,
        required=True,
        help="read (state, list), write (enroll, commands), events; repeat for several",
    )
    actions.add_parser("list", help="every key: id, name, scopes, created, revoked")
    revoke = actions.add_parser("revoke", help="refuse a key from now on")
    revoke.add_argument("key_id", help="the id shown by `list` (the part after tpk_)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    store = ApiKeyStore(settings.stores.database(var_dir=settings.delivery.var_dir))
    if args.action == "create":
        try:
            key, secret = store.create(args.name, args.scope)
        except ValueError as error:
            print(f"touchpoint: {error}", file=sys.stderr)
            return 2
        print(f"created API key {key.key_id} ({args.name}; {', '.join(sorted(key.scopes))}). It is shown once:")
        print(secret)
        return 0
    if args.action == "list":
        for key in store.list():
            revoked = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
            print(
                f"{key.key_id}  {key.name:<24} {','.join(sorted(key.scopes)):<20} "
                f"created {key.created_at:%Y-%m-%d %H:%M}  {revoked}"
            )
        return 0
    if store.revoke(args.key_id):
        print(f"revoked API key {args.key_id}")
        return 0
    print(f"touchpoint: no active API key {args.key_id!r}: see `touchpoint api-key list`", file=sys.stderr)
    return 2
