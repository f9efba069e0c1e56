"""The email every transport sends: one model (`OutgoingEmail`) and one MIME builder.

The outbox, SES and SMTP transports all call `build_mime`, so the headers that matter
(Reply-To, threading, RFC 8058 one-click unsubscribe) are the same whichever delivers.
"""

import hashlib
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP, default
from email.utils import format_datetime
from typing import Protocol

from pydantic import BaseModel

from activities.common.tokens import message_id_digest
from activities.delivery.errors import DeliveryRejected, redact

# Folding at 78 would turn a long URL or message id into RFC 2047 encoded-words, which
# mail clients do not decode in List-Unsubscribe or References; 998 is RFC 5322's limit.
WIRE_POLICY = SMTP.clone(max_line_length=998)


class OutgoingEmail(BaseModel):
    send_key: str
    lead_id: str | None = None
    content_id: str | None = None
    """The content piece (CadenceStep.content): clicks on it are counted per piece."""
    from_name: str
    from_address: str
    to_name: str
    to_address: str
    subject: str
    text: str
    html: str | None = None
    reply_to: str | None = None
    unsubscribe_url: str | None = None
    thread_with: str | None = None
    """The message id this transport returned for the touch this one follows up."""
    message_id: str
    """Our Message-ID (`our_message_id`), for the transports that keep it (outbox, SMTP)."""


class EmailTransport(Protocol):
    @property
    def service(self) -> str | None:
        """The real service messages go to, e.g. "SES"; None for local files and emulators."""
        ...

    def send(self, message: OutgoingEmail) -> str:
        """Hand the message to the provider and return its message id.

        Raises a `DeliveryError` (activities/delivery/errors.py) saying whether the
        provider may have taken the message; any other exception counts as "may have".
        """
        ...


def build_mime(
    message: OutgoingEmail, *, message_id: str, in_reply_to: str | None = None
) -> EmailMessage:
    """The message every transport sends: text and HTML alternatives and our headers.

    `in_reply_to` is the RFC 5322 form (`<…>`) of `message.thread_with`; each transport
    knows how its provider's ids appear in Message-ID headers. Serialize with
    `WIRE_POLICY`.
    """
    try:
        eml = EmailMessage(policy=default)
        eml["From"] = Address(display_name=message.from_name, addr_spec=message.from_address)
        eml["To"] = Address(display_name=message.to_name, addr_spec=message.to_address)
        if message.reply_to:
            eml["Reply-To"] = Address(display_name=message.from_name, addr_spec=message.reply_to)
        eml["Subject"] = message.subject
        eml["Date"] = format_datetime(datetime.now(UTC))
        eml["Message-ID"] = message_id
        if in_reply_to:
            eml["In-Reply-To"] = in_reply_to
            eml["References"] = in_reply_to
        mailto = f"mailto:{message.reply_to or message.from_address}?subject=unsubscribe"
        if message.unsubscribe_url:
            # RFC 8058: a POST to the https URI unsubscribes at once ("one-click").
            eml["List-Unsubscribe"] = f"<{message.unsubscribe_url}>, <{mailto}>"
            eml["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        else:
            # Mail clients turn this into an unsubscribe button; the mail reaches the sender.
            eml["List-Unsubscribe"] = f"<{mailto}>"
        eml["X-Touchpoint-Send-Key"] = message.send_key
        eml.set_content(message.text)
        if message.html is not None:
            eml.add_alternative(message.html, subtype="html")
    except ValueError as err:
        # e.g. a non-ASCII local part: SMTPUTF8 is not supported by SES or by us.
        raise DeliveryRejected(
            f"the email cannot be written for this lead: {redact(str(err), message.to_address)}"
        ) from err
    return eml


def our_message_id(send_key: str, from_address: str, secret: str | None) -> str:
    """A Message-ID derived from the send key, for transports that keep ours (outbox, SMTP).

    The same touch always gets the same id, so if an in-doubt send is ever made twice,
    receiving systems that collapse duplicate Message-IDs show it once. Keyed with the
    token secret so that nobody can compute it from the public send key. Without a
    secret (the local outbox demo) it is a plain hash, guessable; but then no reply is
    read at all (the ingest needs the secret) and no address is in the recipient index,
    so a thread match could close nothing.
    """
    if secret:
        digest = message_id_digest(send_key, secret)
    else:
        digest = hashlib.sha256(send_key.encode()).hexdigest()[:32]
    return f"<tp.{digest}@{from_address.rpartition('@')[2]}>"
