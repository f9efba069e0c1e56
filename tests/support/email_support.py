"""What the email tests share: moto's record of sent mail, the SES wire, a fake clock, and
a retry loop that behaves like Temporal's.

moto records every raw email SES accepted (`/moto-api/data.json`, model `RawMessage`)
but not the `EmailTags` or `ConfigurationSetName` of the request, and it does not
implement the suppression list at all. `SesWire` fills those gaps at the HTTP layer of
the real boto3 client: it keeps the JSON body of every `SendEmail` request, answers
`GetSuppressedDestination` in the shape SES documents, and can answer any SES call
with an error instead of passing it to moto.
"""

import email
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default
from typing import Any

import requests
from botocore.awsrequest import AWSResponse
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.content.cadences import CadenceStore, touch_steps
from activities.stores.ledger import SendLedger
from workflows.models import Lead, TouchInput

REGION = "us-east-1"
SENDER_DOMAIN = "harborview.example"
CONFIGURATION_SET = "touchpoint-events"
SECRET = "test-token-secret"
UNSUBSCRIBE_BASE = "https://t.harborview.example"
REPLY_DOMAIN = "reply.harborview.example"


def set_up_sender(ses: Any) -> Any:
    """What a deployment sets up in SES once: the verified sender domain and the
    configuration set that publishes the events. Returns the client."""
    ses.create_email_identity(EmailIdentity=SENDER_DOMAIN)
    ses.create_configuration_set(ConfigurationSetName=CONFIGURATION_SET)
    return ses


def sent_emails(endpoint: str) -> list[dict[str, Any]]:
    """Every raw email moto's SES accepted since the last reset: id, source, raw_data."""
    data = requests.get(f"{endpoint}/moto-api/data.json", timeout=10).json()
    return data["ses"]["RawMessage"]


def parse(raw: str | bytes) -> EmailMessage:
    as_bytes = raw.encode() if isinstance(raw, str) else raw
    message = email.message_from_bytes(as_bytes, policy=default)
    assert isinstance(message, EmailMessage)
    return message


class _Body:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def aws_error(url: str, status: int, code: str, message: str) -> AWSResponse:
    """An SES v2 (REST-JSON) error response, as botocore reads it."""
    body = json.dumps({"message": message}).encode()
    return AWSResponse(url, status, {"x-amzn-ErrorType": code, "Content-Type": "application/json"}, _Body(body))


def aws_ok(url: str, payload: dict[str, Any]) -> AWSResponse:
    return AWSResponse(url, 200, {"Content-Type": "application/json"}, _Body(json.dumps(payload).encode()))


Fault = Callable[[str, int], tuple[int, str, str] | None]
"""`fault(operation, n)` for the n-th call (from 1) of that operation → (status, code,
message) to answer instead of moto, or None to let the call through."""


@dataclass
class SesWire:
    """Hooks on one sesv2 client: records SendEmail bodies, stubs the suppression list,
    injects faults. `calls` counts the client's SES calls per operation, faulted or not."""

    suppressed: dict[str, str] = field(default_factory=dict)
    fault: Fault | None = None
    send_requests: list[dict[str, Any]] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)

    def attach(self, client: Any) -> Any:
        client.meta.events.register("before-send.sesv2", self._before_send)
        return client

    def _before_send(self, request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        operation = event_name.rsplit(".", 1)[-1]
        self.calls[operation] += 1
        if self.fault is not None:
            answer = self.fault(operation, self.calls[operation])
            if answer is not None:
                return aws_error(request.url, *answer)
        if operation == "GetSuppressedDestination":
            address = request.url.rsplit("/", 1)[-1].replace("%40", "@")
            if address not in self.suppressed:
                return aws_error(request.url, 404, "NotFoundException", "not on the suppression list")
            return aws_ok(
                request.url,
                {
                    "SuppressedDestination": {
                        "EmailAddress": address,
                        "Reason": self.suppressed[address],
                        "LastUpdateTime": datetime(2026, 3, 1, tzinfo=UTC).timestamp(),
                    }
                },
            )
        if operation == "SendEmail":
            self.send_requests.append(json.loads(request.body))
        return None

    def tags(self, index: int = -1) -> dict[str, str]:
        return {tag["Name"]: tag["Value"] for tag in self.send_requests[index]["EmailTags"]}


class FakeClock:
    def __init__(self, start: datetime = datetime(2026, 5, 4, 15, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


class WorkerKilled(BaseException):
    """The process dies here: not an Exception, so no handler in the activity runs."""


class KilledBeforeMark:
    """A ledger whose first `mark_sent` kills the worker: the provider has the message,
    the ledger never hears of it."""

    def __init__(self, ledger: SendLedger) -> None:
        self._ledger = ledger
        self.killed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ledger, name)

    def mark_sent(self, send_key: str, message_id: str) -> None:
        if not self.killed:
            self.killed = True
            raise WorkerKilled
        self._ledger.mark_sent(send_key, message_id)


@dataclass
class Outcome:
    result: Any = None
    error: ApplicationError | None = None
    attempts: int = 0
    errors: list[str] = field(default_factory=list)


def run_like_temporal(
    fn: Callable[[TouchInput], Any],
    touch: TouchInput,
    clock: FakeClock,
    *,
    max_attempts: int = 50,
    on_retry: Callable[[int], None] | None = None,
) -> Outcome:
    """Attempts until success or a non-retryable error, waiting (on the fake clock) what
    Temporal would: the error's next_retry_delay, else 1s doubling up to 10 minutes
    (the workflow's ACTIVITY_RETRY)."""
    outcome = Outcome()
    env = ActivityEnvironment()
    backoff = timedelta(seconds=1)
    while outcome.attempts < max_attempts:
        outcome.attempts += 1
        try:
            outcome.result = env.run(fn, touch)
            return outcome
        except ApplicationError as err:
            outcome.errors.append(err.type or "")
            if err.non_retryable:
                outcome.error = err
                return outcome
            delay = err.next_retry_delay or backoff
        except Exception as err:  # Temporal retries any other failure the same way
            outcome.errors.append(type(err).__name__)
            delay = backoff
        backoff = min(backoff * 2, timedelta(minutes=10))
        clock.advance(delay)
        if on_retry is not None:
            on_retry(outcome.attempts)
    raise AssertionError(f"still failing after {outcome.attempts} attempts: {outcome.errors}")


def make_touch(
    lead: Lead,
    step_key: str = "day-1-case-study",
    *,
    seq: int = 1,
    cadence_id: str = "follow-up",
    touch_type: type[TouchInput] = TouchInput,
    **extra: Any,
) -> TouchInput:
    """A touch as LeadWorkflow builds it (send key `<lead id>:<seq>:<step>`)."""
    cadence = CadenceStore().get(cadence_id)
    step = next(s for s in touch_steps(cadence) if s.key == step_key)
    return touch_type(
        send_key=f"{lead.id}:{seq:05d}:{step.key}",
        lead=lead,
        context={"trigger": "proposal_sent", "discovery_notes": "dispatch takes 3 people"},
        cadence=cadence.ref,
        mode=cadence.mode,
        step=step,
        **extra,
    )


def dana(lead_id: str = "crm-0042", **changes: Any) -> Lead:
    values = {
        "id": lead_id,
        "email": "dana@acme.example",
        "first_name": "Dana",
        "last_name": "Reyes",
        "company": "Acme Freight",
        "owner": "rep-7",
        "attributes": {"challenge": "manual dispatch"},
    } | changes
    return Lead.model_validate(values)
