"""How a send failed, as the transport judges it, and the Temporal error each becomes.

What matters for "never send twice" is whether the provider may have taken the
message: when it certainly did not, the send key's ledger claim is released so that a
retry sends; when it may have, the claim stays and the retry waits for reconciliation
(activities/stores/ledger.py). Transports and the suppression check raise these; the email
activity turns them into `ApplicationError`s.
"""

import re
from datetime import timedelta
from typing import ClassVar

from temporalio.exceptions import ApplicationError

from workflows import names

# ApplicationError types the delivery activities raise; the workflow matches on the first.
DELIVERY_REJECTED = names.DELIVERY_REJECTED
DELIVERY_DEFERRED = "DeliveryDeferred"
SEND_IN_DOUBT = "SendInDoubt"


class DeliveryError(Exception):
    error_type: ClassVar[str]
    non_retryable: ClassVar[bool] = False
    maybe_sent: ClassVar[bool] = False

    def __init__(self, message: str, *, retry_after: timedelta | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def to_application_error(self) -> ApplicationError:
        return ApplicationError(
            str(self),
            type=self.error_type,
            non_retryable=self.non_retryable,
            next_retry_delay=self.retry_after,
        )


class DeliveryRejected(DeliveryError):
    """The provider refused the message for good (bad sender, bad config, bad content).

    Retrying sends the same request again, so the touch fails without retry; the
    message says what a human must fix.
    """

    error_type = DELIVERY_REJECTED
    non_retryable = True


class DeliveryDeferred(DeliveryError):
    """Not sent this time (throttled, unreachable, sending paused); a retry may succeed."""

    error_type = DELIVERY_DEFERRED


class DeliveryInDoubt(DeliveryError):
    """The provider may have accepted the message (the answer was lost): do not resend yet."""

    error_type = SEND_IN_DOUBT
    maybe_sent = True


def redact(text: str, address: str) -> str:
    """Provider messages sometimes quote the recipient; error messages end up in workflow
    history and lead state, which must hold no email address."""
    if not address:
        return text
    return re.sub(re.escape(address), "<recipient>", text, flags=re.IGNORECASE)


def without_addresses(text: str) -> str:
    """For log lines, which carry no email address at all (not even a sender's)."""
    return _ADDRESS.sub("<address>", text)


_ADDRESS = re.compile(r"[\w.+'-]+@[\w-]+(\.[\w-]+)+")
