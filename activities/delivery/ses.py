"""Email through Amazon SES v2: `SendEmail` with raw MIME content, so the headers are ours.

Each send carries the configuration set (which publishes Send, Delivery, Bounce and
Complaint events) and two message tags, `lead_id` and `send_key`, so the ingestion
worker can tie every event to its lead and reconcile the send ledger. Tag values
allow only `[A-Za-z0-9_-]`: other characters are escaped as `_XX` (hex), which
`tag_text` reverses. Tags never carry an address or a name.

SES replaces the Message-ID header with `<SES message id>@<region>.amazonses.com`
(`email.amazonses.com` in us-east-1), so threading headers are built from the id
`SendEmail` returned for the earlier touch.

What an error means (`ses_delivery_error`):

| error | meaning | Temporal |
|---|---|---|
| TooManyRequests, LimitExceeded, throttling, 503, no connection | not sent, try later | retry with backoff |
| AccountSuspended, SendingPaused | account cannot send | retry after 15 minutes |
| bad credentials or IAM denied | not sent, operator must fix | retry after 15 minutes |
| MessageRejected, MailFromDomainNotVerified, BadRequest, NotFound | refused for good | `DeliveryRejected`, no retry |
| other 5xx, read timeout, connection dropped | may have been sent | `SendInDoubt`, claim kept |

A paused or misconfigured account makes every send wait instead of closing or pausing
thousands of leads; a rejection is about this message, so this touch stops.
"""

from datetime import timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError, ParamValidationError
from botocore.exceptions import ConnectionError as BotoConnectionError

from activities.common.aws import CREDENTIAL_CODES, error_code, error_message, http_status, is_throttling
from activities.common.logs import activity_log
from activities.common.ses_tags import tag_value
from activities.delivery.config import SesConfig
from activities.delivery.errors import DeliveryDeferred, DeliveryError, DeliveryInDoubt, DeliveryRejected, redact
from activities.delivery.mime import WIRE_POLICY, OutgoingEmail, build_mime

PAUSED_RETRY = timedelta(minutes=15)


class SesTransport:
    """`client` is a boto3 `sesv2` client (activities/common/aws.py: no botocore retries)."""

    def __init__(self, client: Any, config: SesConfig) -> None:
        self._ses = client
        self._config = config

    @property
    def service(self) -> str | None:
        return None if self._config.endpoint_url else "SES"

    def send(self, message: OutgoingEmail) -> str:
        in_reply_to = self.header_message_id(message.thread_with) if message.thread_with else None
        # SES overwrites our Message-ID; it is there for the copy we would keep.
        eml = build_mime(message, message_id=message.message_id, in_reply_to=in_reply_to)
        tags = [{"Name": "send_key", "Value": tag_value(message.send_key)}]
        if message.lead_id:
            tags.append({"Name": "lead_id", "Value": tag_value(message.lead_id)})
        if message.content_id:
            tags.append({"Name": "content_id", "Value": tag_value(message.content_id)})
        try:
            response = self._ses.send_email(
                FromEmailAddress=message.from_address,
                Destination={"ToAddresses": [message.to_address]},
                Content={"Raw": {"Data": eml.as_bytes(policy=WIRE_POLICY)}},
                EmailTags=tags,
                ConfigurationSetName=self._config.configuration_set,
            )
        except (ClientError, BotoCoreError) as err:
            raise ses_delivery_error(
                err,
                recipient=message.to_address,
                sender=message.from_address,
                config=self._config,
            ) from err
        return str(response["MessageId"])

    def header_message_id(self, ses_message_id: str) -> str:
        """The Message-ID header SES gave the message it accepted under this id."""
        if ses_message_id.startswith("<"):
            return ses_message_id
        return f"<{ses_message_id}@{message_id_domain(self._config)}>"


def message_id_domain(config: SesConfig) -> str:
    if config.message_id_domain:
        return config.message_id_domain
    return "email.amazonses.com" if config.region == "us-east-1" else f"{config.region}.amazonses.com"


def ses_delivery_error(
    err: Exception,
    *,
    recipient: str = "",
    sender: str = "",
    config: SesConfig | None = None,
) -> DeliveryError:
    """What an SES (or botocore) error means for this send; see the table above."""
    if isinstance(err, ClientError):
        return _client_error(err, recipient=recipient, sender=sender, config=config)
    if isinstance(err, BotoConnectionError):
        return DeliveryDeferred(f"could not reach SES ({type(err).__name__}): {err}")
    if isinstance(err, ParamValidationError):
        return DeliveryRejected(f"the SES request is invalid (a bug in Touchpoint, please report): {err}")
    if isinstance(err, HTTPClientError):
        return DeliveryInDoubt(
            f"SES's answer was lost ({type(err).__name__}); the message may have been sent"
        )
    return DeliveryInDoubt(f"SES call failed ({type(err).__name__}): {err}")


def _client_error(
    err: ClientError, *, recipient: str, sender: str, config: SesConfig | None
) -> DeliveryError:
    code = error_code(err)
    status = http_status(err)
    said = redact(error_message(err), recipient)
    where = f" in {config.region}" if config else ""
    if is_throttling(err):
        return DeliveryDeferred(f"SES is throttling sends ({code}): {said}")
    if code in ("AccountSuspendedException", "SendingPausedException"):
        activity_log().error(
            "SES sending is paused: sends wait and retry", code=code, region=config.region if config else None
        )
        return DeliveryDeferred(
            f"SES sending is paused for this account{where} ({code}): {said}. Sends wait and "
            "retry every 15 minutes; resume sending in the SES console once the cause is fixed",
            retry_after=PAUSED_RETRY,
        )
    if code in CREDENTIAL_CODES:
        activity_log().error("SES refused our credentials: sends wait and retry", code=code)
        return DeliveryDeferred(
            f"SES refused the credentials ({code}): {said}. Check the worker's AWS credentials "
            "and that its role allows ses:SendEmail and ses:GetSuppressedDestination",
            retry_after=PAUSED_RETRY,
        )
    if code == "MessageRejected":
        return DeliveryRejected(
            f"SES rejected the message: {said}. Check that the sender {sender} is a verified "
            f"identity{where} and, while the account is in the SES sandbox, that the "
            "recipient is verified too"
        )
    if code == "MailFromDomainNotVerifiedException":
        return DeliveryRejected(
            f"SES refused the sender {sender}: its custom MAIL FROM domain is not verified "
            f"({said}). Publish the MX and SPF records SES shows for the identity, or turn "
            "custom MAIL FROM off"
        )
    if code == "NotFoundException":
        named = f" configuration set {config.configuration_set!r}" if config else " configuration set"
        return DeliveryRejected(
            f"SES could not find what the send names ({said}). Check that the{named} "
            f"exists{where}"
        )
    if code == "BadRequestException":
        return DeliveryRejected(f"SES refused the request as invalid: {said}")
    if status == 503 or code == "ServiceUnavailable":
        return DeliveryDeferred(f"SES is unavailable ({code or status}): {said}")
    if status >= 500:
        return DeliveryInDoubt(f"SES failed ({code or status}) and may have sent the message: {said}")
    return DeliveryDeferred(f"SES refused the send ({code or status}): {said}")
