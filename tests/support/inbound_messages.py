"""Builders for what AWS delivers to the ingestion consumer, shaped as AWS documents it.

- `ses_event`: an SES event record ("Examples of event data that Amazon SES publishes
  to Amazon SNS"), tagged the way `activities/delivery/ses.py` tags our sends.
- `sns_envelope` / `sns_subscription_confirmation`: the SNS HTTP/SQS message around it.
- `inbound_sms`: an AWS End User Messaging SMS two-way payload.

Overrides merge into the record: `ses_event("Bounce", bounce={"bounceType": "Transient"})`
changes one field and keeps the rest; `DROP` removes a key.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from activities.common.ses_tags import tag_value

LEAD_ID = "crm-0042"
STEP_KEY = "day-1-case-study"
SEND_KEY = f"{LEAD_ID}:00001:{STEP_KEY}"
MESSAGE_ID = "0100019a7c2e4b1d-5f3a9e21-7c44-4d0b-9b6e-2a1f8c3d5e70-000000"
SENT_AT = datetime(2026, 3, 2, 14, 0, 0, 120_000, tzinfo=UTC)
RECIPIENT = "dana@acme.example"
SENDER = "Harborview Sales <sales@harborview.example>"
ACCOUNT = "123456789012"
TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT}:touchpoint-ses-events"
BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"

DROP: Any = type("Drop", (), {"__repr__": lambda self: "DROP"})()
_DERIVED: Any = type("Derived", (), {})()

# When each event happens after the send, unless `at` says otherwise.
_AFTER_SEND = {
    "Send": timedelta(0),
    "Delivery": timedelta(seconds=2),
    "DeliveryDelay": timedelta(minutes=10),
    "Bounce": timedelta(seconds=3),
    "Complaint": timedelta(hours=2),
    "Reject": timedelta(0),
    "Rendering Failure": timedelta(0),
    "Open": timedelta(minutes=30),
    "Click": timedelta(minutes=31),
    "Subscription": timedelta(hours=1),
}


def ses_time(moment: datetime) -> str:
    """A time as SES writes it: UTC, milliseconds, `Z`."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def ses_event(
    event_type: str,
    *,
    lead_id: str | None = LEAD_ID,
    send_key: str | None = _DERIVED,
    message_id: str = MESSAGE_ID,
    sent_at: datetime = SENT_AT,
    at: datetime | None = None,
    notification: bool = False,
    **overrides: Any,
) -> dict[str, Any]:
    """An SES event record for one of our sends; `lead_id=None` makes it someone else's.

    `send_key` defaults to the lead's first touch of STEP_KEY. `notification=True` gives
    the older identity notification instead (`notificationType`, no tags).
    """
    if send_key is _DERIVED:
        send_key = f"{lead_id}:00001:{STEP_KEY}" if lead_id is not None else None
    when = ses_time(at or sent_at + _AFTER_SEND[event_type])
    tags: dict[str, list[str]] = {
        "ses:operation": ["SendEmail"],
        "ses:configuration-set": ["touchpoint"],
        "ses:source-ip": ["192.0.2.10"],
        "ses:from-domain": ["harborview.example"],
        "ses:caller-identity": ["touchpoint-worker"],
    }
    if lead_id is not None:
        tags["lead_id"] = [tag_value(lead_id)]
    if send_key is not None:
        tags["send_key"] = [tag_value(send_key)]
    mail: dict[str, Any] = {
        "timestamp": ses_time(sent_at),
        "source": SENDER,
        "sourceArn": f"arn:aws:ses:us-east-1:{ACCOUNT}:identity/harborview.example",
        "sendingAccountId": ACCOUNT,
        "messageId": message_id,
        "destination": [RECIPIENT],
        "headersTruncated": False,
        "headers": [
            {"name": "From", "value": SENDER},
            {"name": "To", "value": RECIPIENT},
            {"name": "Subject", "value": "How Acme Freight cut dispatch time"},
            {"name": "MIME-Version", "value": "1.0"},
            {"name": "Content-Type", "value": 'multipart/alternative; boundary="----=_Part_1_2"'},
        ],
        "commonHeaders": {
            "from": [SENDER],
            "to": [RECIPIENT],
            "messageId": message_id,
            "subject": "How Acme Freight cut dispatch time",
        },
        "tags": tags,
    }
    if event_type in ("Rendering Failure", "DeliveryDelay"):
        # SES's examples of these carry no headers.
        for key in ("headers", "commonHeaders"):
            del mail[key]
    record: dict[str, Any] = {"eventType": event_type, "mail": mail}
    record.update(_detail(event_type, message_id, when, sent_at))
    if notification:
        record["notificationType"] = record.pop("eventType")
        del mail["tags"]
    return _merged(record, overrides)


def _detail(event_type: str, message_id: str, when: str, sent_at: datetime) -> dict[str, Any]:
    feedback_id = f"0100019a7c2f{message_id[12:20]}-feedback-000000"
    if event_type == "Send":
        return {"send": {}}
    if event_type == "Delivery":
        return {
            "delivery": {
                "timestamp": when,
                "processingTimeMillis": 1893,
                "recipients": [RECIPIENT],
                "smtpResponse": "250 2.6.0 Message received",
                "reportingMTA": "a8-30.smtp-out.amazonses.com",
            }
        }
    if event_type == "Bounce":
        return {
            "bounce": {
                "bounceType": "Permanent",
                "bounceSubType": "General",
                "bouncedRecipients": [
                    {
                        "emailAddress": RECIPIENT,
                        "action": "failed",
                        "status": "5.1.1",
                        "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                    }
                ],
                "timestamp": when,
                "feedbackId": feedback_id,
                "reportingMTA": "dsn; a8-30.smtp-out.amazonses.com",
            }
        }
    if event_type == "Complaint":
        return {
            "complaint": {
                "complainedRecipients": [{"emailAddress": RECIPIENT}],
                "timestamp": when,
                "feedbackId": feedback_id,
                "userAgent": "Yahoo!-Mail-Feedback/2.0",
                "complaintFeedbackType": "abuse",
                "arrivalDate": when,
            }
        }
    if event_type == "Reject":
        return {"reject": {"reason": "Bad content"}}
    if event_type == "Open":
        return {"open": {"ipAddress": "198.51.100.23", "timestamp": when, "userAgent": PHONE}}
    if event_type == "Click":
        return {
            "click": {
                "ipAddress": "198.51.100.23",
                "link": "https://harborview.example/case-studies/acme-freight",
                "linkTags": {"content": [STEP_KEY]},
                "timestamp": when,
                "userAgent": BROWSER,
            }
        }
    if event_type == "Rendering Failure":
        return {
            "failure": {
                "errorMessage": "Attribute 'first_name' is not present in the rendering data.",
                "templateName": "follow-up-day-1",
            }
        }
    if event_type == "DeliveryDelay":
        return {
            "deliveryDelay": {
                "timestamp": when,
                "delayType": "TransientCommunicationFailure",
                "expirationTime": ses_time(sent_at + timedelta(hours=14)),
                "delayedRecipients": [
                    {
                        "emailAddress": RECIPIENT,
                        "status": "4.4.1",
                        "diagnosticCode": "smtp; 421 4.4.1 Unable to connect to remote host",
                    }
                ],
            }
        }
    if event_type == "Subscription":
        return {
            "subscription": {
                "contactList": "touchpoint-leads",
                "timestamp": when,
                "source": "UnsubscribeHeader",
                "newTopicPreferences": {
                    "unsubscribeAll": True,
                    "topicSubscriptionStatus": [{"topicName": "sales-follow-up", "subscriptionStatus": "OptOut"}],
                },
                "oldTopicPreferences": {
                    "unsubscribeAll": False,
                    "topicSubscriptionStatus": [{"topicName": "sales-follow-up", "subscriptionStatus": "OptIn"}],
                },
            }
        }
    raise ValueError(f"no SES event type {event_type!r}")


def sns_envelope(
    message: dict[str, Any] | str,
    *,
    message_id: str = "a1f3c0de-6a8e-5b3f-9d27-4c1e0b7a2f55",
    topic_arn: str = TOPIC_ARN,
    timestamp: datetime = SENT_AT,
) -> str:
    """The SNS `Notification` around `message`, as an HTTP endpoint or SQS queue gets it."""
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": topic_arn,
            "Message": message if isinstance(message, str) else json.dumps(message),
            "Timestamp": ses_time(timestamp),
            "SignatureVersion": "1",
            "Signature": "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=",
            "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
            "UnsubscribeURL": f"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={topic_arn}:5a1ff1a5-3d5b-4a1c-9e7f-0b2c8d4e6f71",
        }
    )


def sns_subscription_confirmation(*, topic_arn: str = TOPIC_ARN) -> str:
    """The first message SNS sends a new HTTP subscriber: a request to confirm."""
    token = "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03b0879594eeac82c01f235d0e717736"
    return json.dumps(
        {
            "Type": "SubscriptionConfirmation",
            "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
            "Token": token,
            "TopicArn": topic_arn,
            "Message": f"You have chosen to subscribe to the topic {topic_arn}.\n"
            "To confirm the subscription, visit the SubscribeURL included in this message.",
            "SubscribeURL": f"https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn={topic_arn}&Token={token}",
            "Timestamp": ses_time(SENT_AT),
            "SignatureVersion": "1",
            "Signature": "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=",
            "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
        }
    )


def inbound_sms(
    body: str = "Sounds good, call me Thursday",
    *,
    from_number: str = "+14255550182",
    to_number: str = "+12125550101",
    inbound_id: str = "cae173d2-66b9-564c-8309-21f858e9fb84",
    previous_message_id: str | None = "wJ0Xr3l0LIsIs1ZbOGgepsZgpFV6kaLJwyLoZL7JK1dR5Z9vPWN2ObcfnACIk5cHW",
    keyword: str = "JOIN",
) -> dict[str, Any]:
    """A text a lead sent to our number, as AWS End User Messaging SMS publishes it."""
    message: dict[str, Any] = {
        "originationNumber": from_number,
        "destinationNumber": to_number,
        "messageKeyword": keyword,
        "messageBody": body,
        "inboundMessageId": inbound_id,
    }
    if previous_message_id is not None:
        message["previousPublishedMessageId"] = previous_message_id
    return message


def _merged(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in overrides.items():
        if value is DROP:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged
