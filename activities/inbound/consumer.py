"""The ingest consumer: long-polls the SQS queues, has each message judged, signals the
lead's workflow through `send`, then deletes, dead-letters or puts the message back.

Delivery guarantees, message by message:

- A message is deleted only after its signal was accepted by Temporal (or after it was
  found to need none). A crash before that leaves it in the queue: SQS delivers it
  again after the visibility timeout, and the event id (derived from the provider's)
  makes the second signal a no-op in the workflow. Ids signalled recently are also
  remembered here, so a redelivery usually costs no signal at all.
- A message SNS did not provably sign (`sns_signatures`) goes to the dead-letter queue
  with the reason, before anything in it is read: no signal, no ledger write.
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

`send` is whatever delivers a signal (the process wires in the Touchpoint client); it
reports the lead's refusals as the exceptions below, so this package needs no client.
"""

from __future__ import annotations

import asyncio
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from activities.inbound.config import IngestConfig, QueueKind
from activities.inbound.judge import Defer, Drop, Judge, Refused
from activities.inbound.replies import ReplyParseError
from activities.inbound.ses_events import MalformedEvent, Signal, json_body
from activities.inbound.sns_signatures import CertificateFetcher, SignatureInvalid, SnsVerifier
from activities.stores.ledger import SendLedger

log = structlog.get_logger("touchpoint.ingest")

# SQS caps a message attribute's value well above this; a reason is a sentence.
_REASON_MAX = 1000


class NoSuchLead(Exception):
    """`send`: no lead with this id is enrolled."""


class ClosedLead(Exception):
    """`send`: the lead is closed and takes no more events."""


class InvalidSignal(Exception):
    """`send`: the signal's payload breaks the contract (a parser bug, not the message's)."""


class Ingestor:
    """Reads, judges and signals; the SQS and S3 clients are boto3 clients, and
    `fetch_certificate` fetches SNS's signing certificates (sns_signatures)."""

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
        fetch_certificate: CertificateFetcher | None = None,
    ) -> None:
        if config.verify_sns_signatures and fetch_certificate is None:
            raise ValueError(
                "verify_sns_signatures is on: pass fetch_certificate (sns_signatures.fetch_certificate "
                "in production), or turn verification off for an emulator that does not sign"
            )
        self.config = config
        self._verifier = (
            SnsVerifier(
                fetch_certificate,
                topics=config.sns_topic_arns,
                max_age=timedelta(hours=config.sns_max_age_hours),
                clock=clock,
            )
            if fetch_certificate and config.verify_sns_signatures
            else None
        )
        self._sqs = sqs
        self._send = send
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._in_flight: set[str] = set()
        self.stats: Counter[str] = Counter()
        self._judge = Judge(config, ledger=ledger, reply_secrets=reply_secrets, s3=s3, clock=clock, stats=self.stats)

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
        # Every message of the batch is admitted before any is judged (every click seen:
        # scanner bursts); one that fails here is finished alone and the rest go on.
        refused = await asyncio.gather(*(self._admit(kind, m) for m in messages))
        admitted = [m for m, outcome in zip(messages, refused) if outcome is None]
        # The batch's signals go out together (the workflow takes events in any order);
        # a message is deleted only once its own signal was accepted.
        results = await asyncio.gather(*(self._process(kind, url, m) for m in admitted))
        finished = [(m, r) for m, r in zip(messages, refused) if r is not None] + list(zip(admitted, results))
        await self._delete_batch(url, [m for m, (_, done) in finished if done])
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
        if "events" in self.config.queues():
            log.info(
                "the events queue takes SES configuration-set events (eventType, tagged with the lead) and "
                "identity notifications (notificationType Bounce, Complaint, Delivery; matched by message id "
                "through the send ledger); counted as configuration_set_events and identity_notifications"
            )
        if self._verifier is not None and not self.config.sns_topic_arns:
            log.warning(
                "sns_topic_arns is not set: a message SNS signed for any topic is accepted; "
                "set it to the topics that publish SES events, inbound mail and texts"
            )
        if self._verifier is None:
            log.warning(
                "SNS signatures are NOT checked (verify_sns_signatures is false): anyone who can write "
                "to the queues can close leads and write opt-outs; each such message is counted as "
                "`unverified`. Turn it on everywhere but emulators."
            )
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
        label, done = await self._admit(kind, message) or await self._process(kind, queue_url, message)
        if done:
            await self._delete(queue_url, message["ReceiptHandle"])
        return label

    async def _admit(self, kind: QueueKind, message: dict[str, Any]) -> tuple[str, bool] | None:
        """None when the message may be judged, else what happened to it (as `_process`)."""
        self.stats["received"] += 1
        body = message.get("Body", "")
        try:
            await self._verify(body)
        except SignatureInvalid as err:
            return await self._dead_lettered(kind, message, f"{kind} message failed the SNS signature check: {err}")
        except MalformedEvent as err:
            return await self._dead_lettered(kind, message, f"unreadable {kind} message: {err}")
        except Exception as err:  # SNS's certificate out of reach: SQS delivers the message again
            return await self._failed(kind, message, err)
        if kind != "events":
            return None
        try:
            self._judge.note_click(body)
        except Exception as err:  # parsing alone, no I/O: it would fail the same way every time
            return await self._dead_lettered(kind, message, f"unreadable {kind} message: {type(err).__name__}: {err}")
        return None

    async def _verify(self, body: str) -> None:
        if self._verifier is None:
            self.stats["unverified"] += 1
            return
        envelope = json_body(body)
        if "Type" not in envelope:
            raise SignatureInvalid(
                "no SNS envelope, so no signature to check (raw message delivery?): turn RawMessageDelivery "
                "off on the queue's SNS subscription"
            )
        await self._verifier.verify(envelope)

    async def _process(self, kind: QueueKind, queue_url: str, message: dict[str, Any]) -> tuple[str, bool]:
        """What happened to the message, and whether it may now be deleted. Never raises
        an Exception: whatever fails stays with this message, not its batch."""
        try:
            return await self._judged(kind, queue_url, message)
        except Exception as err:
            return await self._failed(kind, message, err)

    async def _judged(self, kind: QueueKind, queue_url: str, message: dict[str, Any]) -> tuple[str, bool]:
        try:
            outcome = await self._judge.outcome(kind, message.get("Body", ""))
        except (MalformedEvent, ReplyParseError, RecursionError) as err:
            # A RecursionError is the message's shape (nesting), not a passing fault.
            return await self._dead_lettered(kind, message, f"unreadable {kind} message: {err}")
        except Refused as err:
            return await self._dead_lettered(kind, message, f"refused {kind} message: {err}")
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
        except InvalidSignal as err:
            # Our parser built a payload the contract refuses: a bug, kept for a human.
            return await self._dead_lettered(kind, message, f"{kind} message gave an invalid signal: {err}")
        return ("signalled" if outcome.signals else "recorded"), True

    async def _signal(self, signal: Signal) -> None:
        key = f"{signal.lead_id}:{signal.name}:{signal.payload['event_id']}"
        if key in self._recent or key in self._in_flight:
            self.stats["duplicates"] += 1
            return
        self._in_flight.add(key)
        try:
            await self._send(signal)
        except NoSuchLead:
            self.stats["unknown_lead"] += 1
            log.info("event for a lead that is not enrolled", lead_id=signal.lead_id, signal=signal.name)
        except ClosedLead:
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

    async def _failed(self, kind: QueueKind, message: dict[str, Any], err: Exception) -> tuple[str, bool]:
        receives = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        if receives >= self.config.max_receives:
            return await self._dead_lettered(
                kind, message, f"failed {receives} times, last: {type(err).__name__}: {err}"
            )
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

    async def _dead_lettered(self, kind: QueueKind, message: dict[str, Any], reason: str) -> tuple[str, bool]:
        """Keep the untouched body with the reason, so the caller deletes the original; if
        the dead-letter queue cannot take it, the original stays for SQS to deliver again."""
        reason = reason[:_REASON_MAX]
        try:
            await self._dead_letter(kind, message, reason)
        except Exception as err:
            self.stats["retried"] += 1
            log.warning(
                "cannot write to the dead-letter queue; SQS will deliver the message again",
                queue=kind, reason=reason, error_type=type(err).__name__, error=str(err)[:300],
            )
            return "retried", False
        self.stats["dead_lettered"] += 1
        log.warning("message sent to the dead-letter queue", queue=kind, reason=reason)
        return "dead_lettered", True

    async def _dead_letter(self, kind: QueueKind, message: dict[str, Any], reason: str) -> None:
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
