"""The one error family the client raises, each message saying what to do next.

Callers catch `TouchpointError` and show `str(error)` to a person as is: no message
carries an email address, phone number or name, only lead ids and reasons.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pydantic import ValidationError

from workflows import names
from workflows.errors import without_value


class TouchpointError(Exception):
    """Base of every error the Touchpoint client raises on purpose."""


class InvalidInput(TouchpointError):
    """The request is wrong before it reaches Temporal: fix the input and retry."""


class UnknownCadence(InvalidInput):
    def __init__(self, unknown: Sequence[str], *, known: Sequence[str]) -> None:
        self.unknown = tuple(unknown)
        self.known = tuple(known)
        super().__init__(
            f"unknown cadence {', '.join(map(repr, self.unknown))}: "
            f"known cadences are {', '.join(self.known) or 'none'}"
        )


class TemporalUnavailable(TouchpointError):
    def __init__(self, address: str, *, detail: str = "") -> None:
        self.address = address
        super().__init__(
            f"cannot reach Temporal at {address}: start it with `make run` "
            "or set TOUCHPOINT_TEMPORAL_ADDRESS" + (f" ({detail})" if detail else "")
        )


class LeadNotFound(TouchpointError):
    def __init__(self, lead_id: str) -> None:
        self.lead_id = lead_id
        hint = ""
        if (bare := names.lead_id_of(lead_id)) != lead_id:
            hint = f": commands take the lead id, not the workflow id (lead-<id>); try {bare}"
        super().__init__(f"no lead {lead_id} is enrolled{hint}")


class LeadClosed(TouchpointError):
    def __init__(self, lead_id: str, *, outcome: str | None) -> None:
        self.lead_id = lead_id
        self.outcome = outcome
        super().__init__(
            f"lead {lead_id} is closed (outcome {outcome or 'unknown'}): it takes no more "
            "commands or events, and enrolling it again is refused"
        )


class PersonErased(TouchpointError):
    """The lead's email or phone belongs to a person whose data was erased (`touchpoint erase`)."""

    def __init__(self, lead_id: str) -> None:
        super().__init__(
            f"lead {lead_id}: its email address or phone belongs to a person whose data was erased; "
            "they must not be contacted again, so it was not enrolled"
        )
        self.lead_id = lead_id


class CommandRejected(TouchpointError):
    """The workflow's validator (or handler) refused the command; state is unchanged."""

    def __init__(self, lead_id: str, *, command: str, reason: str) -> None:
        self.lead_id = lead_id
        self.command = command
        self.reason = reason
        super().__init__(f"rejected: {reason}")


class NoAnswer(TouchpointError):
    """Temporal accepted the request but no worker answered in time."""

    def __init__(self, lead_id: str, *, command: str, task_queue: str, seconds: float) -> None:
        self.lead_id = lead_id
        super().__init__(
            f"no answer to {command} for lead {lead_id} within {seconds:g}s: is a worker "
            f"polling task queue {task_queue!r}? start one with `touchpoint worker`; "
            f"check `touchpoint state {lead_id}` before retrying, the command may still apply"
        )


Location = tuple[str | int, ...]


def dotted(location: Location) -> str:
    return ".".join(str(part) for part in location)


_DATE_ERRORS = frozenset({"date_type", "date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact"})
_DATETIME_ERRORS = frozenset({"datetime_type", "datetime_parsing", "datetime_from_date_parsing"})


def _format_hint(error_type: str, location: Location) -> str:
    """pydantic never says which format it wants; a person needs to be told."""
    if error_type not in _DATE_ERRORS | _DATETIME_ERRORS:
        return ""
    # A `date | datetime` field fails once per member, each named at the end of the location.
    if error_type in _DATETIME_ERRORS or location[-1:] in (("date",), ("datetime",)):
        return " (write YYYY-MM-DD or YYYY-MM-DDTHH:MM, e.g. 2027-03-01)"
    return " (write YYYY-MM-DD, e.g. 2027-03-01)"


def explain(error: ValidationError, *, field_name: Callable[[Location], str] = dotted) -> str:
    """A pydantic error as 'field: message; field: message', without pydantic's noise."""
    parts: dict[str, str] = {}
    for detail in error.errors(include_url=False):
        message = without_value(detail["msg"].removeprefix("Value error, "), detail.get("input"))
        message += _format_hint(detail["type"], tuple(detail["loc"]))
        # A model-level rule (e.g. "exactly one of months, weeks…") has no field to name.
        field = field_name(tuple(detail["loc"])) if detail["loc"] else ""
        # One message per field: a union type (date | datetime) fails once per member.
        parts.setdefault(field, f"{field}: {message}" if field else message)
    return "; ".join(parts.values())
