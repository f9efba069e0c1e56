"""SES sending events, as SNS delivers them, turned into the signal each lead gets.

Pure parsing: no I/O, no clock, no AWS call. The ingestion consumer hands in the body
of one SQS or HTTP message and gets back a `SesEvent`: the provider's facts (which
message, which lead, when) and, for the events a lead reacts to, the `reply`,
`engagement` or `delivery` signal to send. The shapes follow "Contents of event data
that Amazon SES publishes to Amazon SNS"
(https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html);
the older identity notifications (`notificationType` instead of `eventType`, no tags)
are read too: the caller finds their send in the ledger by message id and parses again
with `sent_as` (`IDENTITY_NOTIFICATIONS`).

Event ids come from the provider's ids, never from the time of parsing, so a
redelivered event gets the same id and the workflow drops the copy:

| event | event_id | why the discriminator |
|---|---|---|
| Send, Delivery, Reject, Rendering Failure | `ses:<messageId>:<type>` | one per message |
| Bounce, Complaint | `…:<type>:<feedbackId>` | a message can bounce or be reported twice |
| Open, DeliveryDelay, Subscription | `…:<type>:<timestamp>` | one per open, retry or change |
| Click | `…:click:<timestamp>:<hash of the link>` | one per link and moment |

Signature checking of SNS envelopes is not done here: the consumer checks every
message before it is parsed (`sns_signatures`).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from activities.common.ses_tags import tag_text
from workflows import names
from workflows.models import EVENT_ID_MAX, LEAD_ID_PATTERN, STEP_KEY_PATTERN

# One of names.SIGNAL_REPLY, SIGNAL_ENGAGEMENT, SIGNAL_DELIVERY.
SignalName = str

# eventType → the short name in event ids (stable: changing one re-delivers old events).
_SHORT = {
    "Send": "send",
    "Delivery": "delivery",
    "Bounce": "bounce",
    "Complaint": "complaint",
    "Reject": "reject",
    "Open": "open",
    "Click": "click",
    "Subscription": "subscription",
    "DeliveryDelay": "delay",
    "Rendering Failure": "render",
}
# The object holding each type's details. SES's own example names the rendering
# failure's object `failure`; `renderingFailure` is accepted as well.
_DETAIL = {
    "Delivery": ("delivery",),
    "Bounce": ("bounce",),
    "Complaint": ("complaint",),
    "Reject": ("reject",),
    "Open": ("open",),
    "Click": ("click",),
    "Subscription": ("subscription",),
    "DeliveryDelay": ("deliveryDelay",),
    "Rendering Failure": ("failure", "renderingFailure"),
}
_DELIVERY_KIND = {
    "Delivery": "delivered",
    "Bounce": "bounce",
    "Complaint": "complaint",
    "Reject": "rejected",
    "DeliveryDelay": "delayed",
    "Rendering Failure": "rendering_failure",
}
# What SES sends from an identity (notificationType; never tagged).
IDENTITY_NOTIFICATIONS = frozenset({"Bounce", "Complaint", "Delivery"})
# The console and CloudWatch spell it without the space.
_ALIASES = {"RenderingFailure": "Rendering Failure"}


class MalformedEvent(ValueError):
    """The body is not an event we can read; the message says what is wrong with it."""


@dataclass(frozen=True)
class Signal:
    lead_id: str
    name: SignalName
    payload: dict[str, Any]  # JSON-ready; validates as ReplyEvent, EngagementEvent or DeliveryEvent


@dataclass(frozen=True)
class SesEvent:
    event_type: str
    message_id: str
    lead_id: str | None  # None: the message carries no lead_id tag (not sent by us)
    send_key: str | None
    timestamp: datetime  # when this event happened (for Send: when the message was accepted)
    identity_notification: bool  # notificationType (from the identity), not a configuration-set eventType
    mail_timestamp: datetime
    signal: Signal | None  # None: nothing for the lead (Send, a resubscription, not ours)
    opt_out_reason: Literal["bounce", "complaint", "unsubscribe"] | None
    user_agent: str | None
    link: str | None
    ip: str | None


def json_body(body: str) -> dict[str, Any]:
    """The body as a JSON object; MalformedEvent when it is not one."""
    return _json_object(body, "the body")


def unwrap_sns(body: str) -> dict[str, Any]:
    """The message inside an SNS `Notification` envelope, or `body` itself (raw delivery)."""
    document = json_body(body)
    kind = document.get("Type")
    if kind is None:
        return document
    topic = document.get("TopicArn", "an unnamed topic")
    if kind == "Notification":
        if "Message" not in document:
            raise MalformedEvent("SNS envelope has no 'Message'")
        message = document["Message"]
        if not isinstance(message, str):
            raise MalformedEvent(f"SNS envelope's 'Message' is a {type(message).__name__}, not a JSON string")
        return _json_object(message, "the SNS message")
    if kind == "SubscriptionConfirmation":
        raise MalformedEvent(
            f"SNS asks to confirm the subscription to {topic}; it carries no event. "
            "Confirm it once (open the SubscribeURL in this message, or run "
            "`aws sns confirm-subscription` with its TopicArn and Token), or subscribe the "
            "queue with the SNS API, which confirms SQS subscriptions itself"
        )
    if kind == "UnsubscribeConfirmation":
        raise MalformedEvent(f"SNS confirms an unsubscription from {topic}; it carries no event")
    raise MalformedEvent(f"unknown SNS message type {kind!r} (expected 'Notification')")


def parse_ses_event(body: str, *, sent_as: str | None = None) -> SesEvent:
    """One SES event (SNS-wrapped or raw) → what happened, to which lead, and its signal.

    `sent_as`: the send key the ledger holds the message under, for mail without tags.
    """
    event = unwrap_sns(body)
    identity_notification = "eventType" not in event
    event_type = event.get("eventType", event.get("notificationType"))
    if not isinstance(event_type, str) or not event_type:
        raise MalformedEvent("SES event has no eventType (nor notificationType)")
    event_type = _ALIASES.get(event_type, event_type)
    if event_type == "AmazonSnsSubscriptionSucceeded":
        raise MalformedEvent("SES's test notification that the topic is set up; it carries no event")
    if event_type not in _SHORT:
        raise MalformedEvent(f"unknown SES eventType {event_type!r}; expected one of {', '.join(_SHORT)}")

    mail = event.get("mail")
    if not isinstance(mail, dict):
        raise MalformedEvent(f"SES {event_type} event has no mail object")
    message_id = mail.get("messageId")
    if not isinstance(message_id, str) or not message_id:
        raise MalformedEvent(f"SES {event_type} event has no mail.messageId")
    mail_timestamp = _timestamp(mail.get("timestamp"), "mail.timestamp")
    lead_id, send_key = _our_tags(mail.get("tags"))
    known = names.parse_send_key(sent_as) if sent_as is not None else None
    if lead_id is None and known is not None:
        lead_id, send_key = known.lead_id, sent_as

    detail: dict[str, Any] = {}
    if event_type in _DETAIL:
        found = [event[name] for name in _DETAIL[event_type] if name in event]
        if not found or not isinstance(found[0], dict):
            raise MalformedEvent(f"SES {event_type} event has no {_DETAIL[event_type][0]} object")
        detail = found[0]
    section = _DETAIL.get(event_type, ("mail",))[0]
    # Reject and Rendering Failure have no time of their own: they happen at the send.
    if event_type in ("Send", "Reject", "Rendering Failure"):
        timestamp = mail_timestamp
    else:
        timestamp = _timestamp(detail.get("timestamp"), f"{section}.timestamp")

    event_id = _event_id(message_id, event_type, detail, timestamp)
    # The content piece: the `content_id` tag (CadenceStep.content), else the step key.
    step = _content_tag(mail.get("tags")) or _step_key(send_key, lead_id)
    at = timestamp.isoformat()
    payload: dict[str, Any] | None = None
    name: SignalName = names.SIGNAL_DELIVERY
    opt_out: Literal["bounce", "complaint", "unsubscribe"] | None = None
    user_agent = link = ip = None

    if event_type in _DELIVERY_KIND:
        # Undetermined (SES could not tell) is not permanent: the address may work again.
        permanent = event_type == "Bounce" and detail.get("bounceType") == "Permanent"
        payload = {
            "event_id": event_id,
            "kind": _DELIVERY_KIND[event_type],
            "permanent": permanent,
            "at": at,
            "send_key": send_key,
        }
        if event_type == "Complaint":
            opt_out = "complaint"
        elif permanent:
            opt_out = "bounce"
    elif event_type in ("Open", "Click"):
        user_agent = _optional_text(detail, "userAgent", section)
        ip = _optional_text(detail, "ipAddress", section)
        name = names.SIGNAL_ENGAGEMENT
        payload = {
            "event_id": event_id,
            "kind": "open",
            "content_id": step,
            "at": at,
            "user_agent": user_agent,
        }
        if event_type == "Click":
            link = _optional_text(detail, "link", section)
            if link is None:
                raise MalformedEvent("SES Click event has no click.link")
            # A scanner's click is decided by the caller (activities/inbound/clicks.py).
            payload.update(kind="click", url=link, automated=False)
    elif event_type == "Subscription" and _unsubscribed(detail.get("newTopicPreferences")):
        name = names.SIGNAL_ENGAGEMENT
        payload = {"event_id": event_id, "kind": "unsubscribe", "content_id": step, "at": at}
        opt_out = "unsubscribe"

    signal = Signal(lead_id, name, payload) if payload is not None and lead_id is not None else None
    return SesEvent(
        event_type=event_type,
        message_id=message_id,
        lead_id=lead_id,
        send_key=send_key,
        timestamp=timestamp,
        identity_notification=identity_notification,
        mail_timestamp=mail_timestamp,
        signal=signal,
        opt_out_reason=opt_out,
        user_agent=user_agent,
        link=link,
        ip=ip,
    )


def bounded_event_id(event_id: str) -> str:
    """`event_id` if it fits EVENT_ID_MAX, else its readable start and a hash of the whole."""
    if len(event_id) <= EVENT_ID_MAX:
        return event_id
    digest = hashlib.sha256(event_id.encode()).hexdigest()
    return f"{event_id[: EVENT_ID_MAX - len(digest) - 1]}~{digest}"


def _event_id(message_id: str, event_type: str, detail: dict[str, Any], timestamp: datetime) -> str:
    parts = ["ses", message_id, _SHORT[event_type]]
    if event_type in ("Bounce", "Complaint"):
        feedback_id = detail.get("feedbackId")
        parts.append(feedback_id if isinstance(feedback_id, str) and feedback_id else _compact(timestamp))
    elif event_type in ("Open", "DeliveryDelay", "Subscription"):
        parts.append(_compact(timestamp))
    elif event_type == "Click":
        link = detail.get("link")
        parts += [_compact(timestamp), hashlib.sha256(str(link).encode()).hexdigest()[:16]]
    return bounded_event_id(":".join(parts))


def _compact(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except (TypeError, ValueError) as err:
        raise MalformedEvent(f"{what} is not JSON: {err}") from None
    except RecursionError:
        raise MalformedEvent(f"{what} is JSON nested too deeply to read") from None
    if not isinstance(document, dict):
        raise MalformedEvent(f"{what} is a JSON {type(document).__name__}, not an object")
    return document


def _timestamp(value: Any, where: str) -> datetime:
    if value is None:
        raise MalformedEvent(f"SES event has no {where}")
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise MalformedEvent(f"{where} {value!r} is not an ISO 8601 timestamp") from None
    if moment.tzinfo is None:
        raise MalformedEvent(f"{where} {value!r} has no time zone")
    return moment


def _optional_text(detail: dict[str, Any], key: str, section: str) -> str | None:
    value = detail.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise MalformedEvent(f"{section}.{key} is not a string (got {type(value).__name__})")
    return value


def _our_tags(tags: Any) -> tuple[str | None, str | None]:
    """lead_id and send_key from mail.tags; (None, None) for mail that is not ours."""
    if tags is None:
        return None, None
    if not isinstance(tags, dict):
        raise MalformedEvent(f"mail.tags is a {type(tags).__name__}, not an object of tag lists")
    lead = _tag(tags, "lead_id")
    if lead is None:
        return None, None
    lead_id = tag_text(lead)
    if lead_id is None or not re.fullmatch(LEAD_ID_PATTERN, lead_id):
        raise MalformedEvent(f"mail.tags lead_id {lead!r} does not decode to a lead id")
    raw_key = _tag(tags, "send_key")
    # A send key SES made us hash (tag_value) cannot be read back: the lead still gets the event.
    return lead_id, tag_text(raw_key) if raw_key is not None else None


def _tag(tags: dict[str, Any], name: str) -> str | None:
    values = tags.get(name)
    if values is None or values == []:
        return None
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise MalformedEvent(f"mail.tags {name} is not a list of strings")
    if len(set(values)) > 1:
        raise MalformedEvent(f"mail.tags {name} has {len(set(values))} different values")
    return values[0]


def _content_tag(tags: Any) -> str | None:
    if not isinstance(tags, dict):
        return None
    raw = _tag(tags, "content_id")
    text = tag_text(raw) if raw is not None else None
    return text[:200] if text else None


def _step_key(send_key: str | None, lead_id: str | None) -> str | None:
    """The content piece of a send: the step key in `{lead_id}:{seq:05d}:{step_key}`."""
    if send_key is None:
        return None
    parsed = names.parse_send_key(send_key)
    if parsed is None or parsed.lead_id != lead_id or not re.fullmatch(STEP_KEY_PATTERN, parsed.step):
        return None
    return parsed.step


def _unsubscribed(preferences: Any) -> bool:
    """The new preferences leave the contact on no topic: unsubscribeAll, or every topic OptOut."""
    if not isinstance(preferences, dict):
        return False
    if preferences.get("unsubscribeAll") is True:
        return True
    topics = preferences.get("topicSubscriptionStatus")
    return (
        isinstance(topics, list)
        and len(topics) > 0
        and all(isinstance(t, dict) and t.get("subscriptionStatus") == "OptOut" for t in topics)
    )
