"""The errors LeadWorkflow raises to callers and reads from its activities.

Pure: exception types only, no workflow calls, so handlers and tests share them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from temporalio.exceptions import ActivityError, ApplicationError

import workflows.names as names
from workflows.models import EnrollLead


class CommandRejected(ApplicationError):
    """Raised by update validators; the caller sees the message and nothing changes."""

    def __init__(self, message: str) -> None:
        super().__init__(message, type="CommandRejected", non_retryable=True)


def short_error(err: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(part) for part in e['loc']) or 'event'}: {e['msg']}" for e in err.errors())


def field_problems(err: ValidationError) -> str:
    """What is wrong, field by field, never the value: the text is stored in Temporal in
    clear (a failure message, a rejected event), and a value may be a phone number."""
    problems = []
    for e in err.errors():
        message = without_value(str(e["msg"]).removeprefix("Value error, "), e.get("input"))
        problems.append(f"{'.'.join(str(part) for part in e['loc']) or 'input'}: {message}")
    return "; ".join(problems)


def without_value(message: str, given: Any) -> str:
    """`message` with the value it quotes replaced: validators name what they refuse
    (`phone '+1312…' is not…`), and an error travels into logs and Temporal."""
    # Strings only: a number such as a speedup is no one's data, and a short one
    # would match digits of the limit the message names.
    if isinstance(given, str) and len(given) >= 3:
        return message.replace(repr(given), "the value given").replace(given, "the value given")
    return message


def json_kind(value: Any) -> str:
    """How a decoded JSON value reads in an error: never the value itself."""
    kinds = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return kinds.get(type(value), "a number" if isinstance(value, int | float) else type(value).__name__)


def parse_command(model: type[Any], raw: Any) -> Any:
    """Commands arrive as the model or, when they do not fit it, as raw JSON: then the
    caller gets pydantic's explanation instead of an opaque decoding failure."""
    if isinstance(raw, model):
        return raw
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        raise CommandRejected(f"invalid command: {short_error(err)}") from None


def refuse(problem: str | None) -> None:
    if problem:
        raise CommandRejected(problem)


def rejection(err: ActivityError) -> str | None:
    """The provider's reason when it refused one message for good, else None."""
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.type == names.DELIVERY_REJECTED:
        return cause.message
    return None


def blocking_problem(err: ActivityError | ApplicationError) -> str | None:
    """The message of an error a retry cannot fix (bad template, unknown cadence)."""
    cause = err.cause if isinstance(err, ActivityError) else err
    if isinstance(cause, ApplicationError) and cause.type in names.BLOCKING_ERRORS:
        return cause.message
    return None


def enrollment(args: Sequence[Any], *, continued: bool) -> tuple[EnrollLead | None, str | None]:
    """LeadWorkflow's input, or why it cannot be a lead (the fields, never their values).
    `memory` is the engine's own: accepted only on a run that continued as new."""
    if len(args) != 1:
        return None, f"LeadWorkflow takes one argument, the EnrollLead JSON object; got {len(args)}"
    raw = args[0]
    if not isinstance(raw, EnrollLead | dict):
        return None, f"LeadWorkflow's input must be a JSON object (EnrollLead); got {json_kind(raw)}"
    try:
        input = raw if isinstance(raw, EnrollLead) else EnrollLead.model_validate(raw)
    except ValidationError as err:
        return None, f"invalid enrollment: {field_problems(err)}"
    if input.memory is not None and not continued:
        return None, "invalid enrollment: memory is set by the engine when a run continues as new; leave it out"
    return input, None
