"""One queue message turned into an outcome: the signals to send, a drop, or a deferral.

The consumer reads three queues fed by SNS:

- events: SES configuration-set events (Send, Delivery, Bounce, Complaint, Reject,
  Open, Click, Subscription, DeliveryDelay, Rendering Failure; `ses_events`), and the
  identity's own notifications (Bounce, Complaint, Delivery), which carry no tags and are
  matched to their send by message id through the ledger;
- replies: SES inbound mail (receipt rule → SNS with the raw MIME, or an S3 action for
  mail over SNS's size limit), matched to its lead (`matching`), then stripped and
  classified (`replies`);
- sms: inbound texts (STOP/START and replies; `sms`).

Judging records what the ledger must know (a send's provider id, an opt-out) before
any signal goes out, and tells scanner clicks from people's (`clicks`). What cannot be
parsed raises (MalformedEvent, ReplyParseError), what must not be done raises Refused
(an S3 bucket not in `inbound_buckets`), and the consumer dead-letters it.
"""

from __future__ import annotations

import asyncio
import base64
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import structlog

from activities.common.phones import phone_key
from activities.common.tokens import address_key
from activities.inbound.clicks import ScannerDetector
from activities.inbound.config import IngestConfig, QueueKind
from activities.inbound.matching import match_reply
from activities.inbound.replies import classify, parse_email, strip_reply
from activities.inbound.ses_events import (
    IDENTITY_NOTIFICATIONS,
    MalformedEvent,
    Signal,
    bounded_event_id,
    parse_ses_event,
    unwrap_sns,
)
from activities.inbound.sms import parse_inbound_sms, sms_signals
from activities.stores.ledger import SendLedger
from workflows import names

log = structlog.get_logger("touchpoint.ingest")

REPLY_TEXT_MAX = 100_000


@dataclass(frozen=True)
class Deliver:
    """These signals (none: the ledger took what the message said), then delete."""

    signals: list[Signal]


@dataclass(frozen=True)
class Drop:
    """Nothing to signal: logged and counted under `counter`, then deleted."""

    counter: str
    reason: str


@dataclass(frozen=True)
class Defer:
    seconds: int
    reason: str


Outcome = Deliver | Drop | Defer


class Refused(Exception):
    """The message is readable but asks for what we must not do; the message says what to set."""


class Judge:
    """Judges the messages of every queue; counts what it decides in the consumer's `stats`."""

    def __init__(
        self,
        config: IngestConfig,
        *,
        ledger: SendLedger,
        reply_secrets: list[str],
        s3: Any,
        clock: Callable[[], datetime],
        stats: Counter[str],
    ) -> None:
        self._config = config
        self._ledger = ledger
        self._secrets = [s for s in reply_secrets if s]
        self._s3 = s3
        self._clock = clock
        self._stats = stats
        self._detector = ScannerDetector(after_delivery_seconds=config.scanner_after_delivery_seconds)

    async def outcome(self, kind: QueueKind, body: str) -> Outcome:
        if kind == "events":
            return await self._ses_event(body)
        if kind == "sms":
            return await self._sms(body)
        return await self._reply(body)

    def note_click(self, body: str) -> None:
        try:
            event = parse_ses_event(body)
        except MalformedEvent:
            return  # handled (dead-lettered) with the rest of the batch
        if event.event_type == "Click" and event.link:
            self._detector.note_click(event.message_id, event.link, event.timestamp)

    async def _ses_event(self, body: str) -> Outcome:
        event = parse_ses_event(body)
        identity = event.identity_notification
        self._stats["identity_notifications" if identity else "configuration_set_events"] += 1
        untagged = event.lead_id is None and identity and event.event_type in IDENTITY_NOTIFICATIONS
        if untagged:
            # SES publishes no tags with identity notifications: the ledger knows our message ids.
            send_key = await asyncio.to_thread(self._ledger.send_for_message, event.message_id)
            if send_key is not None:
                event = parse_ses_event(body, sent_as=send_key)
        if event.event_type == "Delivery":
            self._detector.note_delivery(event.message_id, event.timestamp)
        if event.lead_id is None:
            why = "no lead_id tag and the send ledger does not know it" if untagged else "no lead_id tag"
            return Drop("not_ours", f"SES {event.event_type} for message {event.message_id}: {why}")
        # Ledger first: idempotent, and a send reconciled here is never sent again. In a
        # thread: SQLite fsyncs and DynamoDB is a network call, neither on the event loop.
        if event.event_type == "Send" and event.send_key:
            await asyncio.to_thread(self._ledger.record_provider_event, event.send_key, event.message_id)
        if event.opt_out_reason:
            await asyncio.to_thread(
                self._ledger.record_opt_out, event.lead_id, reason=event.opt_out_reason, at=event.timestamp
            )
        if event.signal is None:
            return Deliver([])
        signal = event.signal
        if event.event_type == "Click":
            age = (self._clock() - event.timestamp).total_seconds()
            if age < self._config.click_settle_seconds:
                return Defer(max(1, int(self._config.click_settle_seconds - age + 0.999)), "young click")
            verdict = self._detector.judge(
                event.message_id,
                event.link or "",
                event.timestamp,
                event.user_agent,
                event.ip,
                mail_timestamp=event.mail_timestamp,
            )
            if verdict.automated:
                self._stats["scanner_clicks"] += 1
                log.info("click made by a scanner", lead_id=event.lead_id, reason=verdict.reason)
            signal = Signal(signal.lead_id, signal.name, {**signal.payload, "automated": verdict.automated})
        return Deliver([signal])

    async def _sms(self, body: str) -> Outcome:
        sms = parse_inbound_sms(body)
        leads = await asyncio.to_thread(self._ledger.leads_for_recipient, "sms", phone_key(sms.from_number))
        if not leads:
            return Drop("unmatched_sms", f"text {sms.inbound_id} is from a number we never texted")
        signals = [sms_signals(sms, lead_id) for lead_id in leads]
        if sms.keyword is None:
            # A text reply is classified like an email (no quotes or signatures to strip).
            verdict = classify(sms.body, today=self._clock().date())
            extra = {
                "intent": verdict.intent,
                "until": verdict.until.isoformat() if verdict.until else None,
                "explanation": verdict.explanation[:500],
                "received_at": self._clock().isoformat(),
            }
            signals = [Signal(s.lead_id, s.name, {**s.payload, **extra}) for s in signals]
            self._stats[f"reply_{verdict.intent or 'for_rep'}"] += 1
        return Deliver(signals)

    async def _reply(self, body: str) -> Outcome:
        notification = unwrap_sns(body)
        mail_meta = notification.get("mail") or {}
        provider_id = mail_meta.get("messageId")
        if notification.get("notificationType") != "Received" or not provider_id:
            raise MalformedEvent(
                "not an SES inbound mail notification (needs notificationType 'Received' and mail.messageId)"
            )
        raw = await self._raw_mail(notification)
        email = parse_email(raw)
        # The envelope recipients SES saw first: headers can omit a Bcc'd reply address.
        envelope = (notification.get("receipt") or {}).get("recipients") or []
        lead_id, matched_by = await asyncio.to_thread(
            match_reply, email, [a for a in envelope if isinstance(a, str)], self._secrets, self._ledger
        )
        if lead_id is None:
            return Drop("unmatched_reply", f"inbound mail {provider_id}: no signed reply-to and no known thread")
        # When SES received it, not the sender's Date header (any clock, any value).
        received = _parse_time(mail_meta.get("timestamp")) or email.date or self._clock()
        text = strip_reply(email.text)
        verdict = classify(text, subject=email.subject, auto_headers=email.auto_headers, today=received.date())
        intent, until = verdict.intent, verdict.until
        explanation = f"{verdict.explanation} (matched by {matched_by})"
        # A thread id alone is no proof of who wrote: anyone who saw it can quote it.
        if matched_by == "thread" and not await asyncio.to_thread(self._emailed_at, lead_id, email.from_address):
            intent, until = None, None
            explanation = (
                "for the rep, no intent applied: matched by thread only, and the sender is not "
                f"an address this lead was emailed at (read as: {verdict.explanation})"
            )
        payload: dict[str, Any] = {
            "event_id": bounded_event_id(f"reply:{provider_id}"),
            "text": text[:REPLY_TEXT_MAX],
            "received_at": received.isoformat(),
            "channel": "email",
            "intent": intent,
            "until": until.isoformat() if isinstance(until, date) else None,
            "explanation": explanation[:500],
        }
        self._stats[f"reply_{intent or 'for_rep'}"] += 1
        return Deliver([Signal(lead_id, names.SIGNAL_REPLY, payload)])

    def _emailed_at(self, lead_id: str, address: str) -> bool:
        """Whether the email activity recorded `address` for this lead (under any secret:
        the index's keys are made with the signing secret of the day)."""
        return any(
            lead_id in self._ledger.leads_for_recipient("email", address_key(address, secret))
            for secret in self._secrets
        )

    async def _raw_mail(self, notification: dict[str, Any]) -> bytes:
        receipt = notification.get("receipt") or {}
        action = receipt.get("action") or {}
        content = notification.get("content")
        if isinstance(content, str) and content:
            if str(action.get("encoding", "UTF8")).upper() == "BASE64":
                try:
                    return base64.b64decode(content, validate=True)
                except ValueError as err:
                    raise MalformedEvent(f"content is not valid base64: {err}") from None
            return content.encode("utf-8", "surrogateescape")
        if action.get("type") == "S3" and action.get("bucketName") and action.get("objectKey"):
            self._allowed_bucket(action["bucketName"])
            if self._s3 is None:
                raise MalformedEvent("mail stored in S3 but the ingest has no S3 client configured")
            response = await asyncio.to_thread(
                self._s3.get_object, Bucket=action["bucketName"], Key=action["objectKey"]
            )
            return await asyncio.to_thread(response["Body"].read)
        raise MalformedEvent(
            "inbound mail notification has neither 'content' (SNS action) nor an S3 action naming the object"
        )

    def _allowed_bucket(self, bucket: Any) -> None:
        """Only the receipt rule's bucket: a notification naming another would make any
        object we can read a reply."""
        allowed = self._config.inbound_buckets
        if not allowed:
            raise Refused(
                f"inbound mail is stored in S3 bucket {str(bucket)[:63]!r}, but no bucket is allowed: set "
                "inbound_buckets in TOUCHPOINT_INGEST to the bucket(s) your SES receipt rule writes to"
            )
        if bucket not in allowed:
            raise Refused(
                f"inbound mail notification names S3 bucket {str(bucket)[:63]!r}, which is not in inbound_buckets "
                f"({', '.join(allowed)}); if SES's receipt rule writes there, add it to inbound_buckets in "
                "TOUCHPOINT_INGEST"
            )


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
