"""Claiming a send key under the in-doubt policy (activities/stores/ledger.py says why).

Delivery's side of the ledger: the store answers what a claim is; this decides whether
the attempt may send, must wait (`DeliveryInDoubt`, retryable) or takes the claim over.
"""

from datetime import UTC, datetime, timedelta

from activities.delivery.errors import DeliveryInDoubt
from activities.stores.ledger import DEFAULT_GRACE, Claim, ClaimStatus, SendLedger


def claim_send(
    ledger: SendLedger,
    send_key: str,
    *,
    lead_id: str,
    channel: str,
    now: datetime,
    grace: timedelta = DEFAULT_GRACE,
) -> Claim:
    """Claim under the in-doubt policy above: `fresh` or `sent`, else `DeliveryInDoubt`.

    Raises `DeliveryInDoubt` (retryable) while an unreconciled claim is younger than
    `grace`; its `retry_after` is when to look again.
    """
    for _ in range(3):
        claim = ledger.claim(send_key, lead_id=lead_id, channel=channel, now=now)
        if claim.status != ClaimStatus.IN_DOUBT:
            return claim
        assert claim.claimed_at is not None
        waited = now - claim.claimed_at
        if waited < grace:
            remaining = grace - waited
            raise DeliveryInDoubt(
                "send outcome in doubt, waiting for reconciliation: an earlier attempt "
                f"claimed {send_key} at {claim.claimed_at.isoformat()} and never recorded "
                f"the provider's answer; sending anyway after {_when(claim.claimed_at + grace)} "
                "unless the provider's Send event arrives first",
                retry_after=max(timedelta(seconds=1), min(remaining, timedelta(seconds=60))),
            )
        if ledger.take_over(send_key, claimed_at=claim.claimed_at, now=now):
            return Claim.fresh()
        # Another attempt took it over, or it was reconciled, released or marked meanwhile.
    raise DeliveryInDoubt(f"send key {send_key} keeps changing hands; retrying")


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")
