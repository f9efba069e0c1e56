"""Addresses that must get no email: checked before every send, after the ledger claim.

Two lists: SES's account-level suppression list (addresses that bounced hard or
complained, kept by SES across all our sending) and the ledger's opt-out table (lead
ids that unsubscribed or complained, written as the events arrive, so a touch already
scheduled when the lead opted out still goes nowhere). Nothing is cached from one
activity call to the next: an address suppressed a minute ago must stop the next send.

A suppressed lead's touch returns `TouchResult(status="skipped", detail=...)` where the
detail reads `suppressed: <REASON> (<list>, since <date>)`, REASON one of `BOUNCE`,
`COMPLAINT`, `UNSUBSCRIBE`: the workflow closes the lead on it.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from activities.common.aws import error_code
from activities.delivery.errors import DeliveryDeferred, DeliveryInDoubt
from activities.delivery.ses import ses_delivery_error
from activities.privacy.erasure import ErasedPeople
from activities.stores.ledger import SendLedger
from workflows.models import Lead

SUPPRESSED_PREFIX = "suppressed: "
BOUNCE = "BOUNCE"
COMPLAINT = "COMPLAINT"
UNSUBSCRIBE = "UNSUBSCRIBE"


@dataclass(frozen=True)
class Suppressed:
    reason: str
    source: str
    since: datetime | None = None

    @property
    def detail(self) -> str:
        since = f", since {self.since.date().isoformat()}" if self.since else ""
        return f"{SUPPRESSED_PREFIX}{self.reason} ({self.source}{since})"


class SuppressionCheck(Protocol):
    def check(self, lead: Lead) -> Suppressed | None:
        """Why this lead must get no email, or None. Raises a DeliveryError when it cannot tell."""
        ...


class SesSuppressionList:
    """The SES account-level suppression list, one `GetSuppressedDestination` per send."""

    def __init__(self, client: Any) -> None:
        self._ses = client

    def check(self, lead: Lead) -> Suppressed | None:
        try:
            found = self._ses.get_suppressed_destination(EmailAddress=lead.email)
        except ClientError as err:
            if error_code(err) == "NotFoundException":
                return None
            raise _lookup_error(err, lead) from err
        except BotoCoreError as err:
            raise _lookup_error(err, lead) from err
        destination = found["SuppressedDestination"]
        return Suppressed(
            reason=str(destination["Reason"]).upper(),
            source="SES account suppression list",
            since=destination.get("LastUpdateTime"),
        )


def _lookup_error(err: Exception, lead: Lead) -> Exception:
    failure = ses_delivery_error(err, recipient=lead.email)
    # A lookup changes nothing at SES: a lost answer is simply asked again.
    if isinstance(failure, DeliveryInDoubt):
        return DeliveryDeferred(f"SES suppression list lookup failed: {failure}")
    return failure


class OptOutList:
    """The ledger's opt-out table (activities/stores/ledger.py), keyed by lead id."""

    def __init__(self, ledger: SendLedger) -> None:
        self._ledger = ledger

    def check(self, lead: Lead) -> Suppressed | None:
        opt_out = self._ledger.opt_out(lead.id)
        if opt_out is None:
            return None
        return Suppressed(reason=opt_out.reason.upper(), source="opt-out table", since=opt_out.at)


class ErasedList:
    """People erased with `touchpoint erase`: only salted hashes of their email and phone remain."""

    def __init__(self, erased: ErasedPeople) -> None:
        self._erased = erased

    def check(self, lead: Lead) -> Suppressed | None:
        # Read as an unsubscribe: the person asked for their data to go, and the lead closes.
        return Suppressed(reason=UNSUBSCRIBE, source="erasure list") if self._erased.is_erased(lead) else None


class Suppressions:
    """Several lists in order; the first that names the lead wins."""

    def __init__(self, *lists: SuppressionCheck) -> None:
        self._lists = lists

    def check(self, lead: Lead) -> Suppressed | None:
        for suppression_list in self._lists:
            found = suppression_list.check(lead)
            if found is not None:
                return found
        return None
