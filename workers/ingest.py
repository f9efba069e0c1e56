"""`touchpoint ingest`: what happens to a touch after it leaves, delivered to its lead.

Long-polls up to three SQS queues fed by SNS and turns each message into a signal on
the lead's workflow:

- events: SES configuration-set events (Send, Delivery, Bounce, Complaint, Reject,
  Open, Click, Subscription, DeliveryDelay, Rendering Failure; activities/inbound/ses_events.py);
- replies: SES inbound mail (receipt rule → SNS with the raw MIME, or an S3 action for
  mail over SNS's size limit; activities/inbound/replies.py matches, strips and classifies it);
- sms: inbound texts (STOP/START and replies; activities/inbound/sms.py).

Delivery guarantees, message by message:

- A message is deleted only after its signal was accepted by Temporal (or after it was
  found to need none). A crash before that leaves it in the queue: SQS delivers it
  again after the visibility timeout, and the event id (derived from the provider's)
  makes the second signal a no-op in the workflow. Ids signalled recently are also
  remembered here, so a redelivery usually costs no signal at all.
- A message that cannot be parsed goes to the dead-letter queue with the reason as a
  message attribute, then is deleted: it would fail the same way forever.
- An event for an unknown or closed lead, mail that is not ours, or a reply we cannot
  match is logged and counted, then deleted: no lead can take it.
- Anything else that fails (Temporal or AWS unreachable) leaves the message for SQS to
  redeliver. After `max_receives` deliveries it goes to the dead-letter queue with the
  last error, so nothing is retried forever (configure the queue's own redrive policy
  with a higher maxReceiveCount as the backstop).
- Clicks younger than `click_settle_seconds` are put back (visibility timeout) so the
  other clicks of a scanner's burst are seen before any of them is judged.

Counters are logged every `report_every_seconds` and on stop (`ingest stats`).
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, NoReturn

import structlog

from activities.common.aws import aws_client
from activities.common.phones import phone_key
from activities.common.tokens import verify_reply_token
from activities.inbound.clicks import ScannerDetector
from activities.inbound.config import IngestConfig, QueueKind
from activities.inbound.replies import (
    InboundEmail,
    ReplyParseError,
    classify,
    parse_email,
    strip_reply,
)
from activities.inbound.ses_events import (
    MalformedEvent,
    SesEvent,
    Signal,
    bounded_event_id,
    parse_ses_event,
    unwrap_sns,
)
from activities.inbound.sms import parse_inbound_sms, sms_signals
from activities.stores.ledger import SendLedger, build_ledger
from starter.client import TouchpointClient
from starter.errors import InvalidInput, LeadClosed, LeadNotFound
from workers.process import BadConfig, connect_or_exit, run_process
from workers.settings import Settings, env_name
from workers.shutdown import stop_signals
from workflows import names

log = structlog.get_logger("touchpoint.ingest")

# SQS caps a message attribute's value well above this; a reason is a sentence.
_REASON_MAX = 1000
REPLY_TEXT_MAX = 100_000


# ------------------------------------------------------------------ outcomes


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


class SignalSender:
    """The three event signals through TouchpointClient (errors already translated)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    async def __call__(self, signal: Signal) -> None:
        send: Callable[[str, Mapping[str, Any]], Awaitable[None]] = getattr(self._client, signal.name)
        await send(signal.lead_id, signal.payload)


# ------------------------------------------------------------------ the consumer


class Ingestor:
    """Reads, judges and signals; the SQS and S3 clients are boto3 clients."""

    def __init__(
        self,
        config: IngestConfig,
        *,
        sqs: Any,
        send: Callable[[Signal], Awaitable[None]],
        ledger: SendLedger,
        reply_secrets: list[str],
        s3: Any = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self._sqs = sqs
        self._s3 = s3
        self._send = send
        self._ledger = ledger
        self._secrets = [s for s in reply_secrets if s]
        self._clock = clock
        self._detector = ScannerDetector(after_delivery_seconds=config.scanner_after_delivery_seconds)
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._in_flight: set[str] = set()
        self.stats: Counter[str] = Counter()

    # -- polling

    async def poll(self, kind: QueueKind) -> int:
        """One long poll of `kind`'s queue; every message handled. Returns how many."""
        url = self.config.queues()[kind]
        response = await asyncio.to_thread(
            self._sqs.receive_message,
            QueueUrl=url,
            MaxNumberOfMessages=self.config.batch_size,
            WaitTimeSeconds=self.config.wait_seconds,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        )
        messages = response.get("Messages", [])
        if kind == "events":
            # Every click of the batch is seen before any is judged (scanner bursts).
            for message in messages:
                self._note_click(message.get("Body", ""))
        # The batch's signals go out together (the workflow takes events in any order);
        # a message is deleted only once its own signal was accepted.
        results = await asyncio.gather(*(self._process(kind, url, m) for m in messages))
        await self._delete_batch(url, [m for m, (_, done) in zip(messages, results) if done])
        return len(messages)

    async def _delete_batch(self, queue_url: str, messages: list[dict[str, Any]]) -> None:
        if not messages:
            return
        response = await asyncio.to_thread(
            self._sqs.delete_message_batch,
            QueueUrl=queue_url,
            Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)],
        )
        for failed in response.get("Failed", []):
            # Delivered again later; its event id makes the second signal a no-op.
            self.stats["delete_failed"] += 1
            log.warning("could not delete a handled message", code=failed.get("Code"), error=failed.get("Message"))

    async def run(self, stop: asyncio.Event) -> None:
        loops = [asyncio.create_task(self._loop(kind, stop), name=f"ingest-{kind}") for kind in self.config.queues()]
        reporter = asyncio.create_task(self._report(stop))
        try:
            await asyncio.gather(*loops)
        finally:
            reporter.cancel()
            log.info("ingest stats", **dict(self.stats))

    async def _loop(self, kind: QueueKind, stop: asyncio.Event) -> None:
        backoff = 1.0
        while not stop.is_set():
            try:
                await self.poll(kind)
                backoff = 1.0
            except Exception as err:  # an AWS outage must not end the consumer
                self.stats["poll_errors"] += 1
                log.warning("cannot read the queue; retrying", queue=kind, error=str(err), retry_in=backoff)
                try:
                    await asyncio.wait_for(stop.wait(), timeout=backoff)
                except TimeoutError:
                    pass
                backoff = min(backoff * 2, 60.0)

    async def _report(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await asyncio.sleep(self.config.report_every_seconds)
            log.info("ingest stats", **dict(self.stats))

    # -- one message

    async def handle(self, kind: QueueKind, queue_url: str, message: dict[str, Any]) -> str:
        """Judge, signal and acknowledge one SQS message. Returns what happened to it."""
        label, done = await self._process(kind, queue_url, message)
        if done:
            await self._delete(queue_url, message["ReceiptHandle"])
        return label

    async def _process(self, kind: QueueKind, queue_url: str, message: dict[str, Any]) -> tuple[str, bool]:
        """What happened to the message, and whether it may now be deleted."""
        body = message.get("Body", "")
        receives = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        self.stats["received"] += 1
        try:
            outcome = await self._judge(kind, body)
        except (MalformedEvent, ReplyParseError, InvalidInput) as err:
            await self._dead_letter(kind, message, f"unreadable {kind} message: {err}")
            return "dead_lettered", True
        except Exception as err:
            return await self._failed(kind, message, receives, err)
        if isinstance(outcome, Defer):
            self.stats["deferred"] += 1
            log.debug("message put back", queue=kind, reason=outcome.reason, seconds=outcome.seconds)
            await asyncio.to_thread(
                self._sqs.change_message_visibility,
                QueueUrl=queue_url,
                ReceiptHandle=message["ReceiptHandle"],
                VisibilityTimeout=outcome.seconds,
            )
            return "deferred", False
        if isinstance(outcome, Drop):
            self.stats[outcome.counter] += 1
            log.info("event dropped", queue=kind, counter=outcome.counter, reason=outcome.reason)
            return outcome.counter, True
        try:
            for signal in outcome.signals:
                await self._signal(signal)
        except InvalidInput as err:
            # Our parser built a payload the contract refuses: a bug, kept for a human.
            await self._dead_letter(kind, message, f"{kind} message gave an invalid signal: {err}")
            return "dead_lettered", True
        except Exception as err:
            return await self._failed(kind, message, receives, err)
        return ("signalled" if outcome.signals else "recorded"), True

    async def _signal(self, signal: Signal) -> None:
        key = f"{signal.lead_id}:{signal.name}:{signal.payload['event_id']}"
        if key in self._recent or key in self._in_flight:
            self.stats["duplicates"] += 1
            return
        self._in_flight.add(key)
        try:
            await self._send(signal)
        except LeadNotFound:
            self.stats["unknown_lead"] += 1
            log.info("event for a lead that is not enrolled", lead_id=signal.lead_id, signal=signal.name)
        except LeadClosed:
            self.stats["closed_lead"] += 1
            log.info("event for a closed lead", lead_id=signal.lead_id, signal=signal.name)
        else:
            self.stats[f"signal_{signal.name}"] += 1
        finally:
            self._in_flight.discard(key)
        self._remember(key)

    def _remember(self, key: str) -> None:
        if self.config.remember_event_ids == 0:
            return
        self._recent[key] = None
        if len(self._recent) > self.config.remember_event_ids:
            self._recent.popitem(last=False)

    async def _failed(
        self, kind: QueueKind, message: dict[str, Any], receives: int, err: Exception
    ) -> tuple[str, bool]:
        if receives >= self.config.max_receives:
            await self._dead_letter(
                kind, message, f"failed {receives} times, last: {type(err).__name__}: {err}"
            )
            return "dead_lettered", True
        self.stats["retried"] += 1
        log.warning(
            "event not handled; SQS will deliver it again",
            queue=kind,
            receives=receives,
            error_type=type(err).__name__,
            error=str(err)[:300],
        )
        return "retried", False

    async def _delete(self, queue_url: str, receipt: str) -> None:
        await asyncio.to_thread(self._sqs.delete_message, QueueUrl=queue_url, ReceiptHandle=receipt)

    async def _dead_letter(self, kind: QueueKind, message: dict[str, Any], reason: str) -> None:
        """Keep the untouched body with the reason; the caller then deletes the original."""
        reason = reason[:_REASON_MAX]
        self.stats["dead_lettered"] += 1
        log.warning("message sent to the dead-letter queue", queue=kind, reason=reason)
        await asyncio.to_thread(
            self._sqs.send_message,
            QueueUrl=self.config.dead_letter_queue_url,
            MessageBody=message.get("Body") or "(empty body)",
            MessageAttributes={
                "reason": {"DataType": "String", "StringValue": reason},
                "source_queue": {"DataType": "String", "StringValue": kind},
                "sqs_message_id": {"DataType": "String", "StringValue": str(message.get("MessageId", "?"))},
            },
        )

    # -- judging

    async def _judge(self, kind: QueueKind, body: str) -> Outcome:
        if kind == "events":
            return await self._ses_event(parse_ses_event(body))
        if kind == "sms":
            return await self._sms(body)
        return await self._reply(body)

    def _note_click(self, body: str) -> None:
        try:
            event = parse_ses_event(body)
        except MalformedEvent:
            return  # handled (dead-lettered) with the rest of the batch
        if event.event_type == "Click" and event.link:
            self._detector.note_click(event.message_id, event.link, event.timestamp)

    async def _ses_event(self, event: SesEvent) -> Outcome:
        if event.event_type == "Delivery":
            self._detector.note_delivery(event.message_id, event.timestamp)
        if event.lead_id is None:
            return Drop("not_ours", f"SES {event.event_type} for message {event.message_id} carries no lead_id tag")
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
            if age < self.config.click_settle_seconds:
                return Defer(max(1, int(self.config.click_settle_seconds - age + 0.999)), "young click")
            verdict = self._detector.judge(
                event.message_id,
                event.link or "",
                event.timestamp,
                event.user_agent,
                event.ip,
                mail_timestamp=event.mail_timestamp,
            )
            if verdict.automated:
                self.stats["scanner_clicks"] += 1
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
            self.stats[f"reply_{verdict.intent or 'for_rep'}"] += 1
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
            self._match, email, [a for a in envelope if isinstance(a, str)]
        )
        if lead_id is None:
            return Drop("unmatched_reply", f"inbound mail {provider_id}: no signed reply-to and no known thread")
        # When SES received it, not the sender's Date header (any clock, any value).
        received = _parse_time(mail_meta.get("timestamp")) or email.date or self._clock()
        text = strip_reply(email.text)
        verdict = classify(text, subject=email.subject, auto_headers=email.auto_headers, today=received.date())
        payload: dict[str, Any] = {
            "event_id": bounded_event_id(f"reply:{provider_id}"),
            "text": text[:REPLY_TEXT_MAX],
            "received_at": received.isoformat(),
            "channel": "email",
            "intent": verdict.intent,
            "until": verdict.until.isoformat() if isinstance(verdict.until, date) else None,
            "explanation": f"{verdict.explanation} (matched by {matched_by})"[:500],
        }
        self.stats[f"reply_{verdict.intent or 'for_rep'}"] += 1
        return Deliver([Signal(lead_id, names.SIGNAL_REPLY, payload)])

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
            if self._s3 is None:
                raise MalformedEvent("mail stored in S3 but the ingest has no S3 client configured")
            response = await asyncio.to_thread(
                self._s3.get_object, Bucket=action["bucketName"], Key=action["objectKey"]
            )
            return await asyncio.to_thread(response["Body"].read)
        raise MalformedEvent(
            "inbound mail notification has neither 'content' (SNS action) nor an S3 action naming the object"
        )

    def _match(self, email: InboundEmail, envelope: list[str]) -> tuple[str | None, str]:
        """Never by the From address: anyone can write it."""
        if self._secrets:
            for address in [*envelope, *email.recipients]:
                lead_id = verify_reply_token(address, self._secrets)
                if lead_id:
                    return lead_id, "signed reply-to"
        for thread_id in email.thread_ids:
            for candidate in _message_id_candidates(thread_id):
                send_key = self._ledger.send_for_message(candidate)
                parsed = names.parse_send_key(send_key) if send_key else None
                if parsed is not None:
                    return parsed.lead_id, "thread"
        return None, ""


def _message_id_candidates(thread_id: str) -> list[str]:
    """How the ledger may hold the id a Message-ID header names: our `<…>` form for the
    outbox and SMTP, the bare SES message id for SES (`<id@region.amazonses.com>`)."""
    bare = thread_id.strip().strip("<>")
    local, _, domain = bare.partition("@")
    candidates = [f"<{bare}>", bare]
    if domain.endswith("amazonses.com"):
        candidates.append(local)
    return candidates


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# ------------------------------------------------------------------ process


async def run_ingest(settings: Settings) -> None:
    """The `touchpoint ingest` process: until SIGTERM/SIGINT, then finish the batch."""
    config: IngestConfig | None = settings.inbound.ingest
    if config is None:
        raise BadConfig(
            f"set {env_name('ingest')} to a JSON object naming the queues, e.g. "
            '{"region": "us-east-1", "events_queue_url": "https://sqs…/touchpoint-events", '
            '"dead_letter_queue_url": "https://sqs…/touchpoint-events-dlq"}'
        )
    token_secret = settings.delivery.token_secret
    secrets = [token_secret.get_secret_value()] if token_secret else []
    if config.replies_queue_url and not secrets:
        raise BadConfig(
            f"replies are matched by the signed reply-to address: set {env_name('token_secret')} "
            "to the workers' secret"
        )
    client = TouchpointClient(await connect_or_exit(settings.connection), task_queue=settings.connection.task_queue)
    sqs = aws_client("sqs", region=config.region, endpoint_url=config.endpoint_url)
    s3 = aws_client("s3", region=config.region, endpoint_url=config.endpoint_url)
    ingestor = Ingestor(
        config,
        sqs=sqs,
        s3=s3,
        send=SignalSender(client),
        ledger=build_ledger(settings.stores.ledger, beside=settings.delivery.outbox_dir),
        reply_secrets=secrets,
    )
    stop = asyncio.Event()
    with stop_signals() as stopped:
        stopped.add_done_callback(lambda _: stop.set())
        log.info("ingest started", queues=sorted(config.queues()))
        started = time.monotonic()
        await ingestor.run(stop)
    log.info("ingest stopped", seconds=round(time.monotonic() - started, 1))


def main() -> NoReturn:
    """`python -m workers.ingest` and `touchpoint ingest`."""
    run_process("touchpoint ingest", run_ingest)


if __name__ == "__main__":
    main()
