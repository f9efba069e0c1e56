"""`touchpoint erase`, `touchpoint export` and `touchpoint rewrap-keys`, and the payload
codec every lead command connects with.

erase (GDPR Art. 17): closes the lead (the `erase` update, outcome `erased`), reads its
email and phone from its history, then destroys what is held outside Temporal and the
lead's data key (activities/privacy/erasure.py). The history stays on the server, but
without the key it is ciphertext. Run it again if it stopped halfway: every step is
idempotent.

export (GDPR Art. 15): everything held about the lead, as one JSON document: every
payload of every run of its workflow, decoded, and the rows and files outside Temporal.

rewrap-keys: the rotation step. After a new key is appended to TOUCHPOINT_PAYLOAD_KEYS
(or KMS is switched on), wraps every data key with it, so the old key can be removed.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from google.protobuf.message import Message
from pydantic import ValidationError
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from activities.content.config import ContentConfig
from activities.delivery.config import DeliveryConfig
from activities.privacy.codec import LeadCodec, PrivacySettings, build_codec, key_material
from activities.privacy.erasure import ErasedPeople, LocalFiles, erase_held_data, held_data
from activities.privacy.store import PrivacyStore
from activities.stores import database
from activities.stores.ledger import build_ledger
from starter.connection import TemporalConnection, connect
from starter.errors import InvalidInput, LeadNotFound, TemporalUnavailable, TouchpointError, explain
from workflows import names

Command = Callable[[argparse.Namespace], Any]


class Settings(PrivacySettings, Protocol):
    """What these commands read (workers.settings.Settings has it all)."""

    @property
    def connection(self) -> TemporalConnection: ...

    @property
    def content(self) -> ContentConfig: ...

    @property
    def delivery(self) -> DeliveryConfig: ...


def codec(settings: PrivacySettings) -> LeadCodec:
    """The payload codec for a client; no key configured is a settings error (exit 2)."""
    try:
        return build_codec(settings)
    except ValueError as error:
        raise InvalidInput(f"invalid settings: {error}") from None


def erased_people(settings: PrivacySettings) -> ErasedPeople:
    url = settings.stores.database(var_dir=settings.delivery.var_dir)
    return ErasedPeople(PrivacyStore(database.engine(url)))


def add_commands(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """Register the commands with the CLI's parser factory (starter/cli.py)."""
    p = command("erase", "erase a lead: close it, destroy its key and its data (GDPR Art. 17)")
    p.set_defaults(run=erase)
    p.add_argument("lead")
    p.add_argument("--by", help="who asks, for the audit record (default: the login name)")
    p.add_argument("--yes", action="store_true", help="required: erasing cannot be undone")

    p = command("export", "write everything held about a lead as JSON (GDPR Art. 15)")
    p.set_defaults(run=export)
    p.add_argument("lead")
    p.add_argument("--out", type=Path, metavar="FILE", help="write here (mode 0600) instead of stdout")
    p.add_argument("--by", help="who asks, for the audit record (default: the login name)")

    p = command("rewrap-keys", "wrap every data key with the newest payload key (key rotation)")
    p.set_defaults(run=rewrap_keys)


# ---------------------------------------------------------------------- commands


async def erase(args: argparse.Namespace) -> int:
    if not args.yes:
        raise InvalidInput("erasing a lead cannot be undone: add --yes")
    settings = _settings(args)
    client = await _connect(settings)
    workflow_id = names.workflow_id(args.lead)
    contact = await _contact(client, workflow_id, args.lead)
    closed = await _close_for_erasure(client, workflow_id)
    keys, ledger, files = _stores(settings)
    report = erase_held_data(
        lead_id=args.lead,
        email=contact.get("email"),
        phone=contact.get("phone"),
        keys=keys,
        ledger=ledger,
        files=files,
        actor=args.by or getpass.getuser(),
        now=datetime.now(UTC),
    )
    print(
        f"erased lead {args.lead}: workflow {closed}; data key "
        f"{'destroyed' if report.key_destroyed else 'was already gone'}; {report.ledger_rows} ledger rows and "
        f"{report.local_records} local records deleted; suppressed by hash: {', '.join(report.suppressed) or 'nothing'}"
    )
    return 0


async def export(args: argparse.Namespace) -> int:
    settings = _settings(args)
    client = await _connect(settings)
    workflow_id = names.workflow_id(args.lead)
    runs = await _runs(client, workflow_id)
    if not runs:
        raise LeadNotFound(args.lead)
    keys, ledger, files = _stores(settings)
    document = {
        "lead_id": args.lead,
        "workflow_id": workflow_id,
        "exported_at": datetime.now(UTC).isoformat(),
        "temporal": runs,
        **held_data(lead_id=args.lead, keys=keys, ledger=ledger, files=files),
    }
    keys.store.audit("export", args.lead, actor=args.by or getpass.getuser(), now=datetime.now(UTC))
    text = json.dumps(document, indent=2, ensure_ascii=False, default=str)
    if args.out is None:
        sys.stdout.write(text + "\n")
    else:
        args.out.touch(mode=0o600)
        args.out.chmod(0o600)  # it holds the person's data
        args.out.write_text(text + "\n", encoding="utf-8")
        print(f"exported lead {args.lead} to {args.out}")
    return 0


async def rewrap_keys(args: argparse.Namespace) -> int:
    settings = _settings(args)
    keys = _keys(settings)
    rewrapped = kept = 0
    for row in keys.store.live_data_keys():
        assert row.wrapped is not None
        if keys.wrapping.is_current(row.wrapped):
            kept += 1
            continue
        data_key = keys.wrapping.unwrap(row.wrapped, data_key_id=row.key_id)
        new = keys.wrapping.wrap(data_key, data_key_id=row.key_id)
        rewrapped += keys.store.replace_wrapping(row.key_id, row.wrapped, new)
    print(f"rewrapped {rewrapped} data keys with {keys.wrapping.current}; {kept} were already")
    return 0


# ----------------------------------------------------------------------- helpers


def _settings(args: argparse.Namespace) -> Settings:
    try:
        return args.read_settings()
    except ValidationError as error:
        raise InvalidInput(f"invalid settings: {explain(error)}") from None


def _keys(settings: Settings) -> Any:
    var_dir = settings.delivery.var_dir
    try:
        return key_material(settings.privacy, var_dir=var_dir, database_url=settings.stores.database(var_dir=var_dir))
    except ValueError as error:
        raise InvalidInput(f"invalid settings: {error}") from None


def _stores(settings: Settings) -> tuple[Any, Any, LocalFiles]:
    delivery = settings.delivery
    files = LocalFiles(delivery.outbox_dir, delivery.sms_outbox_file, delivery.tasks_file)
    return _keys(settings), build_ledger(settings.stores.ledger, beside=delivery.outbox_dir), files


async def _connect(settings: Settings) -> Client:
    try:
        return await connect(settings.connection, codec=codec(settings))
    except RuntimeError as error:
        raise TemporalUnavailable(settings.connection.temporal_address) from error


async def _contact(client: Client, workflow_id: str, lead_id: str) -> dict[str, Any]:
    """The lead's email and phone, from the input of its latest run (before its key goes)."""
    try:
        history = await client.get_workflow_handle(workflow_id).fetch_history()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise LeadNotFound(lead_id) from None
        raise
    started = history.events[0].workflow_execution_started_event_attributes
    values = await client.data_converter.decode(started.input.payloads) if started.input.payloads else []
    lead = values[0].get("lead") if values and isinstance(values[0], dict) else None
    return lead if isinstance(lead, dict) else {}


async def _close_for_erasure(client: Client, workflow_id: str) -> str:
    """Close the running lead with the `erase` update; a completed one stays as it is."""
    handle = client.get_workflow_handle(workflow_id)
    description = await handle.describe()
    if description.status != WorkflowExecutionStatus.RUNNING:
        return f"already {description.status.name.lower() if description.status else 'closed'}"
    try:
        await handle.execute_update(names.UPDATE_ERASE, {"note": "erased on request"})
    except WorkflowUpdateFailedError as error:
        raise TouchpointError(f"the workflow refused the erase update: {error.cause}") from None
    await handle.result()
    return "closed as erased"


async def _runs(client: Client, workflow_id: str) -> list[dict[str, Any]]:
    """Every run of the workflow, newest first, with every payload of its history decoded."""
    runs = []
    async for execution in client.list_workflows(f"WorkflowId = '{workflow_id}'"):
        history = await client.get_workflow_handle(workflow_id, run_id=execution.run_id).fetch_history()
        events = []
        for event in history.events:
            values = [await _decoded(client, payload) for payload in payloads_in(event)]
            if values:
                events.append({"event_id": event.event_id, "type": event.WhichOneof("attributes"), "payloads": values})
        runs.append({"run_id": execution.run_id, "status": execution.status.name if execution.status else None,
                     "events": events})  # fmt: skip
    return runs


async def _decoded(client: Client, payload: Payload) -> Any:
    try:
        return (await client.data_converter.decode([payload]))[0]
    except Exception as error:  # one unreadable payload must not hide the rest
        return {"unreadable": type(error).__name__}


def payloads_in(message: Message) -> Iterator[Payload]:
    """Every Payload inside a protobuf message, at any depth (inputs, results, failures, headers)."""
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if field.message_type.GetOptions().map_entry:
            if field.message_type.fields_by_name["value"].message_type is None:
                continue
            items = list(value.values())
        elif field.is_repeated:
            items = list(value)
        else:
            items = [value]
        for item in items:
            if isinstance(item, Payload):
                yield item
            else:
                yield from payloads_in(item)
