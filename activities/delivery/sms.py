"""SMS touches: only to a lead with a phone number and recorded consent, and no opt-out
in the send ledger.

Locally the transport appends to a JSON-lines outbox; `activities.delivery.sns_sms` sends
through Amazon SNS behind the same `SmsTransport` interface.
"""

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel
from temporalio import activity

from activities.common.jsonl import JsonLines
from activities.common.logs import touch_log
from activities.common.phones import phone_key
from activities.content.config import ContentConfig
from activities.content.templates import TemplateRenderer
from activities.content.touch import render_touch
from activities.delivery.errors import DeliveryError
from activities.delivery.fast_clock import refuse_fast_clock
from activities.delivery.suppression import OptOutList
from activities.stores.ledger import SendLedger
from workflows import names
from workflows.models import Channel, Lead, TouchInput, TouchResult


class OutgoingSms(BaseModel):
    send_key: str
    lead_id: str
    to: str
    text: str


class SmsNotSent(Exception):
    """Raised by a transport that learns at send time that the number must not be texted
    (the carrier or provider holds an opt-out): the touch is recorded as skipped."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SmsTransport(Protocol):
    @property
    def service(self) -> str | None:
        """The real service texts go to, e.g. "SNS"; None for local files and emulators."""
        ...

    def send(self, message: OutgoingSms) -> str:
        """Deliver once per send key and return the message id; a repeat returns the first id.

        Raises SmsNotSent when the number must not be texted, and a DeliveryError
        (activities/delivery/errors.py) when the provider did not take the text.
        """
        ...


class SmsOutboxTransport:
    """Appends one JSON line per send key instead of delivering the text."""

    service = None

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
        self,
        renderer: TemplateRenderer,
        transport: SmsTransport,
        content: ContentConfig,
        *,
        ledger: SendLedger | None = None,
    ) -> None:
        self._renderer = renderer
        self._transport = transport
        self._content = content
        # Opt-outs, checked before every text, and where inbound texts (STOP, replies)
        # find their lead: phone hash -> lead ids.
        self._ledger = ledger

    @activity.defn(name=names.SEND_SMS)
    def send_sms(self, input: TouchInput) -> TouchResult:
        refuse_fast_clock(input, self._transport.service)
        log = touch_log(input)
        # The same opt-outs as email: an unsubscribe link or a complaint stops texts too.
        opted_out = OptOutList(self._ledger).check(input.lead) if self._ledger is not None else None
        if opted_out is not None:
            log.info("sms skipped: lead opted out", reason=opted_out.reason)
            return TouchResult(send_key=input.send_key, status="skipped", detail=opted_out.detail)
        if reason := _cannot_text(input.lead):
            # Not an error: the cadence moves on and the touch is recorded as skipped.
            log.info("sms skipped", reason=reason)
            return TouchResult(send_key=input.send_key, status="skipped", detail=reason)
        rendered = render_touch(self._renderer, self._content, input, Channel.SMS)
        if self._ledger is not None and input.lead.phone:
            # Before the send: a STOP can come back within seconds of the text.
            self._ledger.record_recipient("sms", phone_key(input.lead.phone), input.lead.id)
        try:
            message_id = self._transport.send(
                OutgoingSms(
                    send_key=input.send_key,
                    lead_id=input.lead.id,
                    to=input.lead.phone,
                    text=rendered.text,
                )
            )
        except SmsNotSent as skipped:
            log.info("sms skipped", reason=skipped.reason)
            return TouchResult(send_key=input.send_key, status="skipped", detail=skipped.reason)
        except DeliveryError as err:
            log.warning("sms not delivered", error_type=err.error_type, error=str(err))
            raise err.to_application_error() from None
        log.info("sms sent", message_id=message_id)
        return TouchResult(send_key=input.send_key, status="sent", message_id=message_id)


def _cannot_text(lead: Lead) -> str | None:
    if not lead.phone:
        return "no phone number on file"
    if not lead.sms_consent:
        return "no SMS consent on file"
    return None
