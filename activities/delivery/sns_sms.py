"""SMS through AWS: `SnsSmsTransport` publishes a touch's text with Amazon SNS.

Why SNS and not AWS End User Messaging SMS (`pinpoint-sms-voice-v2`, the newer API):
SNS `Publish(PhoneNumber=…)` is delivered by End User Messaging SMS underneath (same
origination identities, same opt-out list, same spending limits), and it is the API
moto implements, so the tests run real boto3 calls against a local moto server exactly
as production reaches AWS. moto has no `pinpoint-sms-voice-v2`. Moving to it later is
one new transport class with the same `send` (`send_text_message` with
`DestinationPhoneNumber`, `MessageType`, `OriginationIdentity`); nothing else changes.

Idempotency: SNS has no idempotency token, so this transport sends again when the
activity is retried after a publish whose answer was lost. Once-per-send-key comes from
the send ledger in front of the transport, as for email (DESIGN.md, hard limits).

Opt-out: the number is checked with `check_if_phone_number_is_opted_out` before each
text; an opted-out number is a skipped touch ("opted out"), never an error. So is an
`OptedOut` answer to the publish itself (the person replied STOP in between).

Errors, in the vocabulary of activities/delivery/errors.py (SmsActivities turns them
into ApplicationErrors): a number or message SNS refuses (`InvalidParameter`, …) is
`DeliveryRejected`, non-retryable, since the same text to the same number cannot
succeed. Any other SNS error answer (throttling, 5xx, a permission an operator can
still fix) is `DeliveryDeferred`, and Temporal retries the activity; network failures
are raised as they are, also retried. The client comes from `activities.common.aws.aws_client`
(no botocore retries). The errors carry the SNS error code and the lead id, never
SNS's own message: it may quote the number, and failure messages are stored
unencrypted.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from activities.common.aws import aws_client, error_code, http_status, is_throttling
from activities.common.logs import activity_log
from activities.delivery.config import SnsSmsConfig
from activities.delivery.errors import DeliveryDeferred, DeliveryError, DeliveryRejected
from activities.delivery.sms import OutgoingSms, SmsNotSent

OPTED_OUT = "opted out"

# SNS error codes that mean this message to this number will never be accepted.
_REJECTED_CODES = frozenset(
    {
        "InvalidParameter",
        "ParameterValueInvalid",
        "InvalidParameterValue",
        "ValidationException",
        "ValidationError",
    }
)


class SnsSmsTransport:
    """Texts one number at a time with `sns.publish(PhoneNumber=…)`.

    `client`: `activities.common.aws.aws_client("sns", region=…)`, one attempt per call, so
    Temporal's retry policy is the only one.
    """

    def __init__(self, client: Any, config: SnsSmsConfig) -> None:
        self._sns = client
        self._attributes = _message_attributes(config)
        self._emulated = config.endpoint_url is not None

    @classmethod
    def from_config(cls, config: SnsSmsConfig) -> SnsSmsTransport:
        """With its own client for `config.region` (and `config.endpoint_url` in tests)."""
        return cls(aws_client("sns", region=config.region, endpoint_url=config.endpoint_url), config)

    @property
    def service(self) -> str | None:
        return None if self._emulated else "SNS"

    def send(self, message: OutgoingSms) -> str:
        log = activity_log(lead_id=message.lead_id, send_key=message.send_key)
        try:
            opted_out = self._sns.check_if_phone_number_is_opted_out(phoneNumber=message.to)["isOptedOut"]
        except ClientError as err:
            raise _delivery_error(err, message) from None
        if opted_out:
            raise SmsNotSent(OPTED_OUT)
        try:
            response = self._sns.publish(
                PhoneNumber=message.to,
                Message=message.text,
                MessageAttributes=self._attributes,
            )
        except ClientError as err:
            if error_code(err) == "OptedOut":
                # Opted out between the check and the publish.
                raise SmsNotSent(OPTED_OUT) from None
            raise _delivery_error(err, message) from None
        message_id = str(response["MessageId"])
        log.debug("sns accepted the text", message_id=message_id)
        return message_id


def _message_attributes(config: SnsSmsConfig) -> dict[str, dict[str, str]]:
    attributes = {"AWS.SNS.SMS.SMSType": _string(config.sms_type)}
    if config.sender_id:
        attributes["AWS.SNS.SMS.SenderID"] = _string(config.sender_id)
    if config.origination_number:
        attributes["AWS.MM.SMS.OriginationNumber"] = _string(config.origination_number)
    if config.max_price_usd is not None:
        attributes["AWS.SNS.SMS.MaxPrice"] = {"DataType": "Number", "StringValue": f"{config.max_price_usd:.5f}"}
    return attributes


def _string(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


def _delivery_error(err: ClientError, message: OutgoingSms) -> DeliveryError:
    """What an SNS error answer means for this text. Raise it `from None`: Temporal stores
    the cause chain too, and SNS's message may quote the number."""
    code = error_code(err) or "unknown"
    where = f"SNS {err.operation_name} for lead {message.lead_id}"
    if code in _REJECTED_CODES:
        return DeliveryRejected(
            f"{where} refused the text ({code}); retrying cannot help: check the lead's "
            "phone number and the SMS settings (sender ID, origination number)"
        )
    why = "throttled" if is_throttling(err) else f"failed with {code} (HTTP {http_status(err)})"
    return DeliveryDeferred(f"{where} {why}; will retry")
