"""SMS touches: only to a lead with a phone number and recorded consent.

Locally the transport appends to a JSON-lines outbox; a real provider comes later
behind the same `SmsTransport` interface.
"""

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel
from temporalio import activity

from activities.config import DeliveryConfig
from activities.jsonl import JsonLines
from activities.templates import TemplateRenderer
from activities.touch import render_touch, touch_log
from workflows import names
from workflows.models import Channel, Lead, TouchInput, TouchResult


class OutgoingSms(BaseModel):
    send_key: str
    lead_id: str
    to: str
    text: str


class SmsTransport(Protocol):
    def send(self, message: OutgoingSms) -> str:
        """Deliver once per send key and return the message id; a repeat returns the first id."""
        ...


class SmsOutboxTransport:
    """Appends one JSON line per send key instead of delivering the text."""

    def __init__(self, path: Path) -> None:
        self._outbox = JsonLines(path, key="send_key")

    def send(self, message: OutgoingSms) -> str:
        record = self._outbox.append_once(
            {
                "message_id": f"sms-{uuid.uuid4().hex}",
                "sent_at": datetime.now(UTC).isoformat(),
                **message.model_dump(),
            }
        )
        return str(record["message_id"])


class SmsActivities:
    def __init__(
        self, renderer: TemplateRenderer, transport: SmsTransport, config: DeliveryConfig
    ) -> None:
        self._renderer = renderer
        self._transport = transport
        self._config = config

    @activity.defn(name=names.SEND_SMS)
    def send_sms(self, input: TouchInput) -> TouchResult:
        log = touch_log(input)
        if reason := _cannot_text(input.lead):
            # Not an error: the cadence moves on and the touch is recorded as skipped.
            log.info("sms skipped", reason=reason)
            return TouchResult(send_key=input.send_key, status="skipped", detail=reason)
        rendered = render_touch(self._renderer, self._config, input, Channel.SMS)
        message_id = self._transport.send(
            OutgoingSms(
                send_key=input.send_key,
                lead_id=input.lead.id,
                to=input.lead.phone,
                text=rendered.text,
            )
        )
        log.info("sms sent", message_id=message_id)
        return TouchResult(send_key=input.send_key, status="sent", message_id=message_id)


def _cannot_text(lead: Lead) -> str | None:
    if not lead.phone:
        return "no phone number on file"
    if not lead.sms_consent:
        return "no SMS consent on file"
    return None
