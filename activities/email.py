"""Email touches: render the step's template and hand the message to a transport.

Locally the transport is an outbox of RFC 5322 `.eml` files, one per send key; SES
comes later behind the same `EmailTransport` interface.
"""

import hashlib
import os
import re
import tempfile
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel
from temporalio import activity

from activities.config import DeliveryConfig
from activities.templates import TemplateRenderer
from activities.touch import render_touch, touch_log
from workflows import names
from workflows.models import Channel, TouchInput, TouchResult


class OutgoingEmail(BaseModel):
    send_key: str
    from_name: str
    from_address: str
    to_name: str
    to_address: str
    subject: str
    text: str
    html: str | None = None


class EmailTransport(Protocol):
    def send(self, message: OutgoingEmail) -> str:
        """Deliver the message once per send key and return its message id.

        Sending the same send key again delivers nothing and returns the first id.
        """
        ...


class OutboxTransport:
    """Writes each email as `<send key>.eml` in a directory instead of delivering it."""

    def __init__(self, outbox_dir: Path) -> None:
        self.outbox_dir = outbox_dir

    def send(self, message: OutgoingEmail) -> str:
        path = self.outbox_dir / f"{_file_stem(message.send_key)}.eml"
        if path.exists():
            with path.open("rb") as file:
                return str(BytesHeaderParser().parse(file)["Message-ID"])
        eml = _build(message)
        self.outbox_dir.mkdir(parents=True, exist_ok=True)
        _write_atomically(path, eml.as_bytes(policy=SMTP))
        return str(eml["Message-ID"])


class EmailActivities:
    def __init__(
        self, renderer: TemplateRenderer, transport: EmailTransport, config: DeliveryConfig
    ) -> None:
        self._renderer = renderer
        self._transport = transport
        self._config = config

    @activity.defn(name=names.SEND_EMAIL)
    def send_email(self, input: TouchInput) -> TouchResult:
        rendered = render_touch(self._renderer, self._config, input, Channel.EMAIL)
        sender = self._config.sender_for(input.lead.owner)
        lead = input.lead
        message_id = self._transport.send(
            OutgoingEmail(
                send_key=input.send_key,
                from_name=sender.name,
                from_address=sender.email,
                to_name=" ".join(part for part in (lead.first_name, lead.last_name) if part),
                to_address=lead.email,
                subject=rendered.subject,
                text=rendered.text,
                html=rendered.html,
            )
        )
        touch_log(input).info("email sent", message_id=message_id)
        return TouchResult(send_key=input.send_key, status="sent", message_id=message_id)


def _build(message: OutgoingEmail) -> EmailMessage:
    sender_domain = message.from_address.rpartition("@")[2]
    eml = EmailMessage()
    eml["From"] = Address(display_name=message.from_name, addr_spec=message.from_address)
    eml["To"] = Address(display_name=message.to_name, addr_spec=message.to_address)
    eml["Subject"] = message.subject
    eml["Date"] = format_datetime(datetime.now(UTC))
    eml["Message-ID"] = make_msgid(domain=sender_domain)
    # Mail clients turn this into an unsubscribe button; the mail reaches the sender.
    eml["List-Unsubscribe"] = f"<mailto:{message.from_address}?subject=unsubscribe>"
    eml["X-Touchpoint-Send-Key"] = message.send_key
    eml.set_content(message.text)
    if message.html is not None:
        eml.add_alternative(message.html, subtype="html")
    return eml


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
