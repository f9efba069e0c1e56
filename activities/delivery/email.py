"""Email touches: claim the send key, check suppression, render, deliver, mark.

Every transport gets the same RFC 5322 message from `build_mime` (activities/delivery/mime.py):
the local outbox of `.eml` files (the default, here), SES v2 (activities/delivery/ses.py) and
SMTP (activities/delivery/smtp.py). The send ledger (activities/stores/ledger.py) stands in front of all of
them, so a retried or restarted activity sends a touch at most once whatever the
transport can promise; the outbox keeps its own one-file-per-key check as a second guard.
"""

import hashlib
import os
import re
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.parser import BytesHeaderParser
from pathlib import Path

from temporalio import activity

from activities.common.aws import aws_client
from activities.common.logs import touch_log
from activities.common.tokens import address_key, make_reply_address, unsubscribe_url
from activities.content.config import ContentConfig
from activities.content.templates import TemplateRenderer
from activities.content.touch import render_touch
from activities.delivery.claims import claim_send
from activities.delivery.config import DeliveryConfig
from activities.delivery.errors import DeliveryDeferred, DeliveryError, without_addresses
from activities.delivery.fast_clock import refuse_fast_clock
from activities.delivery.mime import WIRE_POLICY, EmailTransport, OutgoingEmail, build_mime, our_message_id
from activities.delivery.ses import SesTransport
from activities.delivery.smtp import SmtpTransport
from activities.delivery.suppression import (
    ErasedList,
    OptOutList,
    SesSuppressionList,
    Suppressed,
    SuppressionCheck,
    Suppressions,
)
from activities.privacy.erasure import ErasedPeople
from activities.privacy.store import PrivacyStore
from activities.stores import database
from activities.stores.config import LedgerConfig, StoresConfig
from activities.stores.ledger import ClaimStatus, SendLedger, SqliteSendLedger, build_ledger
from workflows import names
from workflows.models import Channel, TouchInput, TouchResult

__all__ = [
    "EmailActivities",
    "EmailTransport",
    "OutboxTransport",
    "OutgoingEmail",
    "build_email_activities",
]


class OutboxTransport:
    """Writes each email as `<send key>.eml` in a directory instead of delivering it."""

    service = None

    def __init__(self, outbox_dir: Path) -> None:
        self.outbox_dir = outbox_dir

    def send(self, message: OutgoingEmail) -> str:
        path = self.outbox_dir / f"{_file_stem(message.send_key)}.eml"
        if path.exists():
            with path.open("rb") as file:
                return str(BytesHeaderParser().parse(file)["Message-ID"])
        eml = build_mime(message, message_id=message.message_id, in_reply_to=message.thread_with)
        try:
            self.outbox_dir.mkdir(parents=True, exist_ok=True)
            _write_atomically(path, eml.as_bytes(policy=WIRE_POLICY))
        except OSError as err:
            # The write is atomic: when it fails, no file exists.
            raise DeliveryDeferred(f"could not write to the outbox {self.outbox_dir}: {err}") from err
        return str(eml["Message-ID"])


class EmailActivities:
    """`send_email`: fast-clock check → ledger claim → suppression → render → transport → ledger mark.

    `ledger` defaults to a SQLite ledger beside the outbox directory, and `in_doubt_grace`
    to LedgerConfig's; `suppression` to the ledger's opt-out table alone
    (build_email_activities adds SES's suppression list).
    `clock` is for tests: the ledger's in-doubt grace is measured with it.
    """

    def __init__(
        self,
        renderer: TemplateRenderer,
        transport: EmailTransport,
        content: ContentConfig,
        config: DeliveryConfig,
        *,
        ledger: SendLedger | None = None,
        in_doubt_grace: timedelta | None = None,
        suppression: SuppressionCheck | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        defaults = LedgerConfig()
        self._renderer = renderer
        self._transport = transport
        self._content = content
        self._config = config
        if ledger is None:
            ledger = SqliteSendLedger(defaults.sqlite_path(beside=config.outbox_dir))
        self._ledger = ledger
        self._suppression = suppression if suppression is not None else OptOutList(self._ledger)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._grace = in_doubt_grace if in_doubt_grace is not None else defaults.in_doubt_grace

    @activity.defn(name=names.SEND_EMAIL)
    def send_email(self, input: TouchInput) -> TouchResult:
        refuse_fast_clock(input, self._transport.service)
        log = touch_log(input)
        key = input.send_key
        try:
            claim = claim_send(
                self._ledger,
                key,
                lead_id=input.lead.id,
                channel=Channel.EMAIL.value,
                now=self._clock(),
                grace=self._grace,
            )
        except DeliveryError as err:
            log.warning("email send in doubt: waiting for reconciliation", error=without_addresses(str(err)))
            raise err.to_application_error() from err
        if claim.status == ClaimStatus.SENT:
            log.info("email already sent", message_id=claim.message_id)
            return TouchResult(send_key=key, status="sent", message_id=claim.message_id)

        # Nothing can have left yet: any failure up to the transport frees the key.
        try:
            message = self._prepare(input)
        except DeliveryError as err:
            self._ledger.release(key)
            log.warning("email not sent", error_type=err.error_type, error=without_addresses(str(err)))
            raise err.to_application_error() from err
        except Exception:
            self._ledger.release(key)
            raise
        if isinstance(message, Suppressed):
            self._ledger.release(key)
            log.info("email skipped: address suppressed", reason=message.reason)
            return TouchResult(send_key=key, status="skipped", detail=message.detail)

        # Any exception but a DeliveryError that says otherwise leaves the claim in
        # doubt: the provider may have the message, and the next attempt must not resend.
        try:
            message_id = self._transport.send(message)
        except DeliveryError as err:
            if not err.maybe_sent:
                self._ledger.release(key)
            log.warning("email not sent", error_type=err.error_type, error=without_addresses(str(err)))
            raise err.to_application_error() from err
        try:
            self._ledger.mark_sent(key, message_id)
        except Exception:
            # The email is out: report it sent, or the retry would wait in doubt for
            # nothing. The key stays claimed, so any later attempt waits for the
            # provider's event instead of resending.
            log.exception("email sent but the ledger mark failed", message_id=message_id)
        log.info("email sent", message_id=message_id)
        return TouchResult(send_key=key, status="sent", message_id=message_id)

    def _prepare(self, input: TouchInput) -> OutgoingEmail | Suppressed:
        """The email to send, or why the lead must get none."""
        suppressed = self._suppression.check(input.lead)
        if suppressed is not None:
            return suppressed
        rendered = render_touch(self._renderer, self._content, input, Channel.EMAIL)
        config = self._config
        sender = self._content.sender_for(input.lead.owner)
        lead = input.lead
        # The first secret signs; the others only verify links already sent.
        secret = next(iter(config.token_secrets), None)
        reply_to = None
        if secret and config.reply_to_domain:
            reply_to = make_reply_address(lead.id, secret, config.reply_to_domain)
            if reply_to is None:
                touch_log(input).warning("lead id too long for a reply address; replies go to the sender")
        # TouchInput.thread_with names the email this follow-up replies to.
        thread_with = input.thread_with if config.thread_follow_ups else None
        if secret:
            # Before the send: a reply can come back within seconds. A reply matched only by
            # its thread must come from an address the lead was emailed at (inbound/judge.py).
            self._ledger.record_recipient(Channel.EMAIL.value, address_key(lead.email, secret), lead.id)
        return OutgoingEmail(
            send_key=input.send_key,
            lead_id=lead.id,
            content_id=input.step.content,
            from_name=sender.name,
            from_address=sender.email,
            to_name=" ".join(part for part in (lead.first_name, lead.last_name) if part),
            to_address=lead.email,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            reply_to=reply_to,
            unsubscribe_url=(
                unsubscribe_url(config.unsubscribe_base_url, lead.id, secret)
                if secret and config.unsubscribe_base_url
                else None
            ),
            thread_with=thread_with,
            message_id=our_message_id(input.send_key, sender.email, secret),
        )


def build_email_activities(
    content: ContentConfig,
    config: DeliveryConfig,
    stores: StoresConfig,
    renderer: TemplateRenderer,
    ledger: SendLedger | None = None,
) -> EmailActivities:
    """The email activities for `config.email_transport`, with the ledger `stores.ledger` names."""
    ledger = ledger if ledger is not None else build_ledger(stores.ledger, beside=config.outbox_dir)
    opt_outs = OptOutList(ledger)
    erased = ErasedList(ErasedPeople(PrivacyStore(database.engine(stores.database(var_dir=config.var_dir)))))
    transport: EmailTransport
    suppression: SuppressionCheck = Suppressions(opt_outs, erased)
    if config.email_transport == "ses":
        assert config.ses is not None
        ses = aws_client("sesv2", region=config.ses.region, endpoint_url=config.ses.endpoint_url)
        transport = SesTransport(ses, config.ses)
        if config.ses.check_suppression_list:
            suppression = Suppressions(opt_outs, erased, SesSuppressionList(ses))
    elif config.email_transport == "smtp":
        assert config.smtp is not None
        transport = SmtpTransport(config.smtp)
    else:
        transport = OutboxTransport(config.outbox_dir)
    return EmailActivities(
        renderer,
        transport,
        content,
        config,
        ledger=ledger,
        in_doubt_grace=stores.ledger.in_doubt_grace,
        suppression=suppression,
    )


def _file_stem(send_key: str) -> str:
    """A file-system-safe name; the hash keeps keys that differ only in `:` or `/` apart."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", send_key)[:150]
    return f"{safe}-{hashlib.sha256(send_key.encode()).hexdigest()[:10]}"


def _write_atomically(path: Path, data: bytes) -> None:
    """Readers see the whole file or none of it, even if the worker dies mid-write."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
