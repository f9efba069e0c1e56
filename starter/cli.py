"""`touchpoint`: enroll and steer leads from a shell. The lead commands live here; the
entry point (workers/cli.py) adds the process commands and hands in the settings.

Exit status: 0 done; 1 the command failed (rejected, unknown or closed lead, Temporal
unreachable, bad CSV rows); 2 the input itself is wrong (flags, JSON, CSV header,
settings). User errors print one message on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar, get_args

from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from activities.content.cadences import CadenceError, CadenceStore
from activities.content.config import ContentConfig
from activities.privacy.codec import PrivacySettings
from starter import privacy_commands
from starter.client import EnrollFailure, EnrollResult, TouchpointClient
from starter.connection import TemporalConnection
from starter.csv_import import BadRow, CsvLead, read_leads
from starter.errors import InvalidInput, Location, TouchpointError, explain
from starter.render import leads_table, state_view, stopped_line
from starter.schema import write_schemas
from starter.search_attributes import register_search_attributes
from workflows.errors import enrollment
from workflows.models import (
    CloseInput,
    CloseOutcome,
    CompleteTaskInput,
    EnrollLead,
    LeadState,
    Mode,
    MoveInput,
    PauseInput,
    ReplyEvent,
    ReplyIntent,
    ResumeInput,
    SnoozeInput,
    TriggerEvent,
)

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
DEFAULT_SCHEMA_DIR = Path("deploy/schema")

# soft_wrap: long messages stay one line, so scripts can grep them.
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

ModelT = TypeVar("ModelT", bound=BaseModel)
Command = Callable[[argparse.Namespace], Awaitable[int]]


class ClientSettings(PrivacySettings, Protocol):
    """What the lead commands read from the settings the entry point hands in."""

    @property
    def connection(self) -> TemporalConnection: ...

    @property
    def content(self) -> ContentConfig: ...


def run(args: argparse.Namespace) -> int:
    """Run a lead command parsed by `build_parser`; returns the exit status."""
    try:
        if args.command == "schema":
            for path in write_schemas(args.out):
                out.print(f"wrote {path}", markup=False)
            return 0
        return asyncio.run(args.run(args))
    except InvalidInput as error:
        return _fail(str(error), EXIT_BAD_INPUT)
    except TouchpointError as error:
        return _fail(str(error), EXIT_FAILED)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)


# ---------------------------------------------------------------------- commands


async def enroll(args: argparse.Namespace) -> int:
    flags = args.sms_consent or any(getattr(args, name) is not None for name in LEAD_FLAGS)
    sources = [bool(args.csv), bool(args.json), flags]
    if sum(sources) != 1:
        raise InvalidInput("give exactly one of --csv FILE, --json FILE|- or the lead flags (--id, --email, --mode…)")
    if args.csv:
        if not args.csv.is_file():
            raise InvalidInput(f"no such file: {args.csv}")
        parsed = read_leads(args.csv, speedup=args.speedup)
        return await _enroll_batch(args, parsed.leads, parsed.bad_rows)
    if args.json:
        return await _enroll_json(args)
    single = _validated(EnrollLead, _flags_to_input(args), field_name=_flag_of)
    touchpoint = await _connect(args)
    result = await touchpoint.enroll(single)
    out.print(_enroll_line(result), markup=False)
    return 0


async def reply(args: argparse.Namespace) -> int:
    event = _validated(
        ReplyEvent,
        {
            # Outside a workflow a random id is fine; --event-id makes a retry a no-op.
            "event_id": args.event_id or str(uuid.uuid4()),
            "text": args.text,
            "channel": args.channel,
            "intent": args.intent,
            "received_at": datetime.now(UTC),
        },
        field_name=_flag_of,
    )
    touchpoint = await _connect(args)
    await touchpoint.reply(args.lead, event)
    out.print(f"reply {event.event_id} sent to lead {args.lead}", markup=False)
    return 0


async def trigger(args: argparse.Namespace) -> int:
    event = _validated(
        TriggerEvent,
        {"event_id": args.event_id or str(uuid.uuid4()), "name": args.name, "note": args.note},
        field_name=_flag_of,
    )
    touchpoint = await _connect(args)
    await touchpoint.trigger(args.lead, event)
    out.print(f"trigger {event.name} ({event.event_id}) sent to lead {args.lead}", markup=False)
    return 0


def _update(name: str, model: type[BaseModel], fields: Callable[[argparse.Namespace], dict[str, Any]]) -> Command:
    """A command that sends one update and shows the state it returns."""

    async def command(args: argparse.Namespace) -> int:
        given = {key: value for key, value in fields(args).items() if value is not None}
        # Checked before connecting, so a typo is reported even with no server running.
        update = _validated(model, given, field_name=_flag_of)
        touchpoint = await _connect(args)
        new_state = await getattr(touchpoint, name)(args.lead, update)
        _show_state(new_state, as_json=False)
        if name == "complete_task" and new_state.mode == Mode.AWAITING_REP:
            # Completing a task never restarts automation: the rep decides when.
            out.print(
                f"the lead still awaits its rep: `touchpoint resume {args.lead}` restarts its cadence", markup=False
            )
        return 0

    return command


async def state(args: argparse.Namespace) -> int:
    touchpoint = await _connect(args)
    lead = await touchpoint.state(args.lead)
    stopped = await touchpoint.stopped(args.lead)
    if args.json:
        print(lead.model_dump_json(indent=2))
        if stopped:
            err.print(f"touchpoint: {stopped_line(stopped)}", markup=False)
    else:
        out.print(state_view(lead, stopped=stopped))
    return 0


async def list_leads(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise InvalidInput(f"--limit must be at least 1, got {args.limit}")
    touchpoint = await _connect(args)
    leads = await touchpoint.list(mode=args.mode, owner=args.owner, segment=args.segment, limit=args.limit)
    if args.json:
        print(json.dumps([asdict(lead) for lead in leads], default=datetime.isoformat, indent=2))
    else:
        out.print(leads_table(leads, closed=args.mode == Mode.CLOSED.value))
    return 0


async def setup(args: argparse.Namespace) -> int:
    settings = _settings(args)
    connection = settings.connection
    touchpoint = await TouchpointClient.connect(connection, codec=privacy_commands.codec(settings))
    added = await register_search_attributes(touchpoint.temporal, namespace=connection.namespace)
    if added:
        out.print(f"registered in namespace {connection.namespace}: {', '.join(added)}", markup=False)
    else:
        out.print(f"search attributes already registered in namespace {connection.namespace}", markup=False)
    return 0


# ------------------------------------------------------------------------- enroll


LEAD_FLAGS = (
    "id",
    "email",
    "first_name",
    "last_name",
    "company",
    "timezone",
    "phone",
    "owner",
    "segment",
    "mode",
    "attr",
    "context",
    "follow_up_cadence",
    "nurture_cadence",
)


def _flags_to_input(args: argparse.Namespace) -> dict[str, Any]:
    lead = {
        name: getattr(args, name)
        for name in ("id", "email", "first_name", "last_name", "company", "timezone", "phone", "owner", "segment")
        if getattr(args, name) is not None
    }
    if args.sms_consent:
        lead["sms_consent"] = True
    if args.attr:
        lead["attributes"] = _pairs(args.attr, flag="--attr")
    enroll: dict[str, Any] = {"lead": lead}
    # Left out when not given, so a missing --mode reads as required, as --id and --email do.
    if args.mode is not None:
        enroll["mode"] = args.mode
    if args.context:
        enroll["context"] = _pairs(args.context, flag="--context")
    for name in ("follow_up_cadence", "nurture_cadence", "speedup"):
        if getattr(args, name) is not None:
            enroll[name] = getattr(args, name)
    return enroll


def _pairs(items: list[str], *, flag: str) -> dict[str, str]:
    pairs = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InvalidInput(f"{flag} {item!r}: write NAME=VALUE, e.g. {flag} challenge='manual dispatch'")
        pairs[name.strip()] = value
    return pairs


def _flag_of(location: Location) -> str:
    """The flag a validation error points at, e.g. ('lead', 'first_name') -> --first-name."""
    match location:
        case ("lead", "attributes", name, *_):
            return f"--attr {name}"
        case ("context", name, *_):
            return f"--context {name}"
        case ("lead", name, *_) | (name, *_):
            return "--" + str(name).replace("_", "-")
    return ""


async def _enroll_json(args: argparse.Namespace) -> int:
    from_stdin = str(args.json) == "-"
    source = "stdin" if from_stdin else str(args.json)
    try:
        data = json.loads(sys.stdin.read() if from_stdin else args.json.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput(f"no such file: {args.json}") from None
    except json.JSONDecodeError as error:
        raise InvalidInput(f"{source}: not valid JSON: {error}") from None
    items = data if isinstance(data, list) else [data]
    leads, bad = [], []
    first_item_of: dict[str, int] = {}
    for number, item in enumerate(items, start=1):
        if isinstance(item, dict) and args.speedup is not None:
            item = {**item, "speedup": args.speedup}
        enroll, problem = enrollment((item,), continued=False)
        if enroll is None:
            bad.append(BadRow(line=number, reason=(problem or "invalid").removeprefix("invalid enrollment: ")))
            continue
        if enroll.lead.id in first_item_of:
            # Two starts of one new lead at once could both report "enrolled".
            bad.append(
                BadRow(
                    line=number,
                    reason=f"duplicate id {enroll.lead.id!r} (first in item {first_item_of[enroll.lead.id]})",
                )
            )
            continue
        first_item_of[enroll.lead.id] = number
        leads.append(CsvLead(line=number, enroll=enroll))
    if not isinstance(data, list) and bad:
        raise InvalidInput(f"{source}: {bad[0].reason}")
    return await _enroll_batch(args, leads, bad, unit="item")


async def _enroll_batch(
    args: argparse.Namespace, leads: list[CsvLead], bad: list[BadRow], *, unit: str = "line"
) -> int:
    """Enroll the good entries with a progress bar, then one summary; exit 1 on any bad one."""
    touchpoint = await _connect(args)
    line_of = {row.enroll.lead.id: row.line for row in leads}
    counts = {"enrolled": 0, "already": 0, "closed": 0}
    failures: list[BadRow] = []

    with Progress(
        TextColumn("enrolling"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("enroll", total=len(leads))

        def on_result(result: EnrollResult | EnrollFailure) -> None:
            if isinstance(result, EnrollFailure):
                failures.append(BadRow(line=line_of[result.lead_id], reason=str(result.error)))
            elif result.created:
                counts["enrolled"] += 1
            else:
                counts["already"] += 1
                counts["closed"] += result.closed_outcome is not None
            progress.advance(task)

        await touchpoint.enroll_many([row.enroll for row in leads], on_result=on_result)

    problems = sorted([*bad, *failures], key=lambda row: row.line)
    closed = f" ({counts['closed']} closed, not restarted)" if counts["closed"] else ""
    label = "bad rows" if unit == "line" else "bad items"
    out.print(
        f"enrolled {counts['enrolled']}, already enrolled {counts['already']}{closed}, {label} {len(problems)}",
        markup=False,
    )
    for row in problems:
        out.print(f"  {unit} {row.line}: {row.reason}", markup=False)
    return EXIT_FAILED if problems else 0


def _enroll_line(result: EnrollResult) -> str:
    if result.created:
        return f"enrolled lead {result.lead_id} (workflow {result.workflow_id})"
    if result.closed_outcome:
        return f"lead {result.lead_id} is already enrolled and closed (outcome {result.closed_outcome}): not restarted"
    return f"lead {result.lead_id} is already enrolled (workflow {result.workflow_id})"


# ------------------------------------------------------------------------ helpers


def _settings(args: argparse.Namespace) -> ClientSettings:
    try:
        return args.read_settings()
    except ValidationError as error:
        raise InvalidInput(f"invalid settings: {explain(error)}") from None


async def _connect(args: argparse.Namespace) -> TouchpointClient:
    settings = _settings(args)
    return await TouchpointClient.connect(
        settings.connection,
        codec=privacy_commands.codec(settings),
        known_cadences=_cadence_ids(settings.content.cadences_dir),
        erased=privacy_commands.erased_people(settings),
    )


def _cadence_ids(directory: Path | None) -> Callable[[], list[str]]:
    """The ids of the cadences the worker reads, from the same files (TOUCHPOINT_CADENCES_DIR,
    else the packaged ones): the worker's settings are the CLI's."""

    def ids() -> list[str]:
        try:
            return CadenceStore(directory).ids()
        except CadenceError as error:
            raise TouchpointError(f"cannot check cadence ids: {error}") from None

    return ids


def _validated(model: type[ModelT], data: dict[str, Any], *, field_name: Callable[[Location], str]) -> ModelT:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InvalidInput(explain(error, field_name=field_name)) from None


def _show_state(state: LeadState, *, as_json: bool) -> None:
    if as_json:
        print(state.model_dump_json(indent=2))
    else:
        out.print(state_view(state))


def _fail(message: str, code: int) -> int:
    err.print(f"touchpoint: {message}", markup=False)
    return code


# ------------------------------------------------------------------------- parser


def build_parser(
    read_settings: Callable[[], ClientSettings],
    add_commands: Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None],
) -> argparse.ArgumentParser:
    """The lead commands, which read their settings with `read_settings` when they need
    them (so bad input is reported first); `add_commands` adds commands before them."""
    parser = argparse.ArgumentParser(
        prog="touchpoint",
        description="Enroll and steer Touchpoint leads. Connection settings come from "
        "TOUCHPOINT_* variables (TOUCHPOINT_TEMPORAL_ADDRESS, TOUCHPOINT_NAMESPACE, TOUCHPOINT_TASK_QUEUE).",
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(read_settings=read_settings)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_commands(commands)

    def command(name: str, summary: str) -> argparse.ArgumentParser:
        # The summary is also the first line of `touchpoint NAME --help`.
        return commands.add_parser(name, help=summary, description=summary)

    p = command("enroll", "enroll leads from flags, --json or --csv")
    p.set_defaults(run=enroll)
    p.add_argument("--csv", type=Path, metavar="FILE", help="a CSV of leads (see starter/examples/leads.csv)")
    p.add_argument("--json", type=Path, metavar="FILE|-", help="EnrollLead JSON (one object or a list); - for stdin")
    p.add_argument("--id", help="the lead's CRM id (required with the lead flags)")
    p.add_argument("--email", help="required with the lead flags")
    p.add_argument("--first-name")
    p.add_argument("--last-name")
    p.add_argument("--company")
    p.add_argument("--timezone", help="IANA name, e.g. America/Chicago")
    p.add_argument("--phone", help="E.164, e.g. +13125550142")
    p.add_argument("--sms-consent", action="store_true", help="the lead agreed to receive SMS")
    p.add_argument("--owner", help="rep id")
    p.add_argument("--segment")
    p.add_argument("--mode", choices=["follow_up", "nurture"], help="required with the lead flags")
    p.add_argument("--attr", action="append", metavar="NAME=VALUE", help="lead attribute for templates")
    p.add_argument("--context", action="append", metavar="NAME=VALUE", help="deal context for templates")
    p.add_argument("--follow-up-cadence")
    p.add_argument("--nurture-cadence")
    p.add_argument("--speedup", type=float, help="clock speed-up for every lead enrolled (1 = real time)")

    p = command("reply", "record a reply from the lead")
    p.set_defaults(run=reply)
    p.add_argument("lead")
    p.add_argument("--text", required=True)
    p.add_argument("--intent", choices=get_args(ReplyIntent), help="leave out when a person must read it")
    p.add_argument("--channel", choices=["email", "sms"], default="email")
    p.add_argument("--event-id", help="deduplication key (default: a new uuid)")

    p = command("trigger", "send an external business event")
    p.set_defaults(run=trigger)
    p.add_argument("lead")
    p.add_argument("--name", required=True, help="e.g. funding_round")
    p.add_argument("--note", default="")
    p.add_argument("--event-id", help="deduplication key (default: a new uuid)")

    p = command("snooze", '"not now": check back later, then nurture')
    p.set_defaults(run=_update("snooze", SnoozeInput, lambda a: {
        "months": a.months, "weeks": a.weeks, "days": a.days, "until": a.until, "reason": a.reason,
    }))  # fmt: skip
    p.add_argument("lead")
    length = p.add_mutually_exclusive_group(required=True)
    length.add_argument("--months", type=int)
    length.add_argument("--weeks", type=int)
    length.add_argument("--days", type=int)
    length.add_argument("--until", metavar="DATE", help="e.g. 2027-03-01")
    p.add_argument("--reason")

    p = command("pause", "stop automation until resumed (or --until)")
    p.set_defaults(run=_update("pause", PauseInput, lambda a: {"reason": a.reason, "until": a.until}))
    p.add_argument("lead")
    p.add_argument("--reason", required=True)
    p.add_argument("--until", metavar="DATE", help="date or ISO date-time")

    p = command("resume", "resume a paused lead or one awaiting its rep")
    p.set_defaults(run=_update("resume", ResumeInput, lambda a: {"note": a.note}))
    p.add_argument("lead")
    p.add_argument("--note")

    p = command("move", "move the lead to follow-up or nurture")
    p.set_defaults(run=_update("move", MoveInput, lambda a: {"to": a.to, "reason": a.reason}))
    p.add_argument("lead")
    p.add_argument("--to", required=True, choices=["follow_up", "nurture"])
    p.add_argument("--reason")

    p = command("close", "close the lead: no automated touch ever again")
    p.set_defaults(run=_update("close", CloseInput, lambda a: {"outcome": a.outcome, "note": a.note}))
    p.add_argument("lead")
    p.add_argument("--outcome", required=True, choices=get_args(CloseOutcome))
    p.add_argument("--note")

    p = command("complete-task", "mark a rep task done")
    p.set_defaults(
        run=_update("complete_task", CompleteTaskInput, lambda a: {"task_id": a.task_id, "result": a.result})
    )
    p.add_argument("lead")
    p.add_argument("--task-id", required=True)
    p.add_argument("--result")

    p = command("state", "show a lead's state")
    p.set_defaults(run=state)
    p.add_argument("lead")
    p.add_argument("--json", action="store_true", help="the full LeadState as JSON")

    p = command("list", "list leads (running ones; --mode closed for closed)")
    p.set_defaults(run=list_leads)
    p.add_argument("--mode", choices=[mode.value for mode in Mode])
    p.add_argument("--owner")
    p.add_argument("--segment")
    p.add_argument("--limit", type=int, default=100, help="at most this many leads (at least 1; default 100)")
    p.add_argument("--json", action="store_true")

    p = command("setup", "register the search attributes on a real cluster")
    p.set_defaults(run=setup)

    privacy_commands.add_commands(command)

    p = command("schema", "write the contract's JSON Schemas")
    p.add_argument("--out", type=Path, default=DEFAULT_SCHEMA_DIR, metavar="DIR")
    return parser
