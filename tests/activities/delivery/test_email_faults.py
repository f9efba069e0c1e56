"""Faults between Touchpoint and SES, counted against what moto actually received.

(a) the worker dies after SES accepted a message and before the ledger heard of it;
(b) SES throttles every other call; (c) SES rejects a message for good; plus a lost
answer (5xx) and a paused account. Attempts run through `ActivityEnvironment` in a loop
that retries like Temporal (`run_like_temporal`), on a fake clock.
"""

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from activities.common.ses_tags import tag_text
from activities.content.config import ContentConfig
from activities.content.templates import TemplateRenderer
from activities.delivery.config import DeliveryConfig, SesConfig
from activities.delivery.email import EmailActivities
from activities.delivery.errors import DELIVERY_DEFERRED, DELIVERY_REJECTED, SEND_IN_DOUBT
from activities.delivery.ses import SesTransport
from activities.delivery.suppression import OptOutList, SesSuppressionList, Suppressions
from activities.stores.ledger import SendLedger, SqliteSendLedger
from tests.support.email_support import (
    CONFIGURATION_SET,
    REGION,
    SECRET,
    SENDER_DOMAIN,
    UNSUBSCRIBE_BASE,
    FakeClock,
    KilledBeforeMark,
    SesWire,
    WorkerKilled,
    dana,
    make_touch,
    run_like_temporal,
    sent_emails,
)

GRACE = timedelta(seconds=600)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ledger(tmp_path: Path) -> SqliteSendLedger:
    return SqliteSendLedger(tmp_path / "ledger.sqlite3")


def ses_emails(ses: Any, ledger: SendLedger, clock: FakeClock, tmp_path: Path) -> EmailActivities:
    ses_config = SesConfig(region=REGION, configuration_set=CONFIGURATION_SET)
    config = DeliveryConfig(
        outbox_dir=tmp_path / "outbox",
        email_transport="ses",
        ses=ses_config,
        token_secret=SECRET,
        unsubscribe_base_url=UNSUBSCRIBE_BASE,
    )
    return EmailActivities(
        TemplateRenderer(),
        SesTransport(ses, ses_config),
        ContentConfig(sender_email=f"jordan@{SENDER_DOMAIN}"),
        config,
        ledger=ledger,
        in_doubt_grace=GRACE,
        suppression=Suppressions(OptOutList(ledger), SesSuppressionList(ses)),
        clock=clock,
    )


def reconcile_from_ses_events(wire: SesWire, aws: str, ledger: SendLedger) -> int:
    """What the ingestion worker does with SES `Send` events: the event carries the
    message id and our `send_key` tag. moto publishes no events, so they are rebuilt
    from the requests' tags and moto's record of the accepted messages, in order."""
    accepted = sent_emails(aws)
    for request, message in zip(wire.send_requests, accepted, strict=True):
        send_key = tag_text({t["Name"]: t["Value"] for t in request["EmailTags"]}["send_key"])
        assert send_key is not None
        ledger.record_provider_event(send_key, message["id"])
    return len(accepted)


# ---------------------------------------------- (a) killed between accept and mark


def test_a_crash_after_accept_with_the_event_reconciled_sends_exactly_once(
    ses: Any, wire: SesWire, aws: str, ledger: SqliteSendLedger, clock: FakeClock, tmp_path: Path
) -> None:
    crashing = KilledBeforeMark(ledger)
    emails = ses_emails(ses, crashing, clock, tmp_path)
    touch = make_touch(dana())

    with pytest.raises(WorkerKilled):
        emails.send_email(touch)
    reconcile_from_ses_events(wire, aws, ledger)
    clock.advance(timedelta(seconds=10))
    outcome = run_like_temporal(ses_emails(ses, ledger, clock, tmp_path).send_email, touch, clock)

    accepted = sent_emails(aws)
    assert len(accepted) == 1, f"SES accepted {len(accepted)} messages for one touch"
    assert outcome.attempts == 1, f"retry took {outcome.attempts} attempts: {outcome.errors}"
    assert outcome.result.message_id == accepted[0]["id"]


def test_a_crash_after_accept_whose_event_comes_late_waits_then_returns_the_same_id(
    ses: Any, wire: SesWire, aws: str, ledger: SqliteSendLedger, clock: FakeClock, tmp_path: Path
) -> None:
    emails = ses_emails(ses, KilledBeforeMark(ledger), clock, tmp_path)
    touch = make_touch(dana())
    with pytest.raises(WorkerKilled):
        emails.send_email(touch)

    # The event lands after the third in-doubt attempt.
    def event_arrives(attempt: int) -> None:
        if attempt == 3:
            reconcile_from_ses_events(wire, aws, ledger)

    outcome = run_like_temporal(ses_emails(ses, ledger, clock, tmp_path).send_email, touch, clock, on_retry=event_arrives)

    accepted = sent_emails(aws)
    assert len(accepted) == 1, f"SES accepted {len(accepted)} messages for one touch"
    assert outcome.errors == [SEND_IN_DOUBT] * 3, f"attempts: {outcome.errors}"
    assert outcome.result.message_id == accepted[0]["id"]


def test_a_crash_after_accept_with_no_event_waits_out_the_grace_then_sends_again(
    ses: Any, aws: str, ledger: SqliteSendLedger, clock: FakeClock, tmp_path: Path
) -> None:
    """The documented trade-off: with no reconciliation the touch goes out a second time,
    but only after the grace period, never on the first retry."""
    emails = ses_emails(ses, KilledBeforeMark(ledger), clock, tmp_path)
    touch = make_touch(dana())
    crashed_at = clock()
    with pytest.raises(WorkerKilled):
        emails.send_email(touch)

    outcome = run_like_temporal(ses_emails(ses, ledger, clock, tmp_path).send_email, touch, clock)

    accepted = sent_emails(aws)
    in_doubt = outcome.errors.count(SEND_IN_DOUBT)
    assert len(accepted) == 2, f"SES accepted {len(accepted)} messages; expected the original and one after the grace"
    assert in_doubt == outcome.attempts - 1 and in_doubt >= 10, f"{in_doubt} in-doubt attempts of {outcome.attempts}"
    assert clock() - crashed_at >= GRACE, f"resent after {clock() - crashed_at}, before the grace of {GRACE}"
    assert outcome.result.message_id == accepted[1]["id"]


def test_a_crash_before_the_provider_call_sends_once_after_the_grace(
    ses: Any, wire: SesWire, aws: str, ledger: SqliteSendLedger, clock: FakeClock, tmp_path: Path
) -> None:
    """Claimed, then the worker died before calling SES: nothing can reconcile it, so
    the touch waits out the grace and goes out once."""
    ledger.claim(make_touch(dana()).send_key, lead_id="crm-0042", channel="email", now=clock())

    outcome = run_like_temporal(ses_emails(ses, ledger, clock, tmp_path).send_email, make_touch(dana()), clock)

    assert len(sent_emails(aws)) == 1, f"SES accepted {len(sent_emails(aws))} messages"
    assert outcome.errors and set(outcome.errors) == {SEND_IN_DOUBT}


# --------------------------------------------------- (b) throttling on half the calls


def test_every_other_ses_call_throttled_still_delivers_every_touch_exactly_once(
    ses: Any, wire: SesWire, aws: str, ledger: SqliteSendLedger, clock: FakeClock, tmp_path: Path
) -> None:
    # Every other lookup and every other send (per operation: each attempt makes one of each).
    wire.fault = lambda _operation, nth: (
        (429, "TooManyRequestsException", "Maximum sending rate exceeded.") if nth % 2 == 0 else None
    )
    emails = ses_emails(ses, ledger, clock, tmp_path)
    touches = [make_touch(dana(f"crm-{n:04d}"), seq=n) for n in range(1, 11)]

    outcomes = [run_like_temporal(emails.send_email, touch, clock) for touch in touches]

    accepted = sent_emails(aws)
    attempts = sum(outcome.attempts for outcome in outcomes)
    throttled = sum(outcome.errors.count(DELIVERY_DEFERRED) for outcome in outcomes)
    counts = (
        f"{len(touches)} touches, {attempts} attempts, {throttled} throttled, "
        f"SES calls {dict(wire.calls)}, {len(accepted)} accepted by SES"
    )
    assert len(accepted) == len(touches), counts
    assert throttled > 0, counts
    assert sorted(o.result.message_id for o in outcomes) == sorted(m["id"] for m in accepted), counts
    assert sorted(tag_text(wire.tags(i)["send_key"]) for i in range(len(accepted))) == sorted(
        t.send_key for t in touches
    ), counts
    # Retried again after success (a lost completion): still nothing new at SES.
    again = [run_like_temporal(emails.send_email, touch, clock) for touch in touches]
    assert [o.result.message_id for o in again] == [o.result.message_id for o in outcomes]
    assert len(sent_emails(aws)) == len(touches), counts


# ------------------------------------------------------------- (c) permanent rejection


def test_a_rejected_message_ends_the_touch_without_retry_and_with_a_reason(
    ses: Any, wire: SesWire, aws: str, ledger: SqliteSendLedger, clock: FakeClock, tmp_path: Path
) -> None:
    wire.fault = lambda operation, _: (
        (400, "MessageRejected", "Email address is not verified. dana@acme.example") if operation == "SendEmail" else None
    )
    touch = make_touch(dana())

    outcome = run_like_temporal(ses_emails(ses, ledger, clock, tmp_path).send_email, touch, clock)

    assert outcome.error is not None, f"attempts: {outcome.errors}"
    assert outcome.attempts == 1, f"{outcome.attempts} attempts for a permanent rejection"
    assert outcome.error.type == DELIVERY_REJECTED and outcome.error.non_retryable
    assert outcome.error.message.startswith("SES rejected the message")
    assert "verified identity" in outcome.error.message and "dana@acme.example" not in outcome.error.message
    assert sent_emails(aws) == []
    # Once fixed (the lead resumed), the same touch can be sent.
    wire.fault = None
    assert run_like_temporal(ses_emails(ses, ledger, clock, tmp_path).send_email, touch, clock).result.status == "sent"
    assert len(sent_emails(aws)) == 1


# ------------------------------------------------------------------- more faults


def test_a_lost_answer_from_ses_waits_and_then_sends_once(
    ses: Any, wire: SesWire, aws: str, ledger: SqliteSendLedger, clock: FakeClock, tmp_path: Path
) -> None:
    """A 500 may hide an accepted message, so the key stays claimed; here SES had not
    taken it (the fault answered instead of moto), no event comes, and after the grace
    the touch goes out exactly once."""
    wire.fault = lambda operation, _: (500, "InternalFailure", "internal error") if operation == "SendEmail" else None
    emails = ses_emails(ses, ledger, clock, tmp_path)
    touch = make_touch(dana())

    def ses_recovers(attempt: int) -> None:
        wire.fault = None

    outcome = run_like_temporal(emails.send_email, touch, clock, on_retry=ses_recovers)

    assert len(sent_emails(aws)) == 1, f"SES accepted {len(sent_emails(aws))}; attempts: {outcome.errors}"
    assert outcome.errors[0] == SEND_IN_DOUBT and set(outcome.errors) == {SEND_IN_DOUBT}


def test_a_paused_account_makes_sends_wait_15_minutes_not_fail(
    ses: Any, wire: SesWire, aws: str, ledger: SqliteSendLedger, clock: FakeClock, tmp_path: Path
) -> None:
    paused = {"on": True}
    wire.fault = lambda operation, _: (
        (400, "SendingPausedException", "Sending is paused for this account.")
        if operation == "SendEmail" and paused["on"]
        else None
    )
    started = clock()

    def resume_after_three(attempt: int) -> None:
        if attempt == 3:
            paused["on"] = False

    outcome = run_like_temporal(
        ses_emails(ses, ledger, clock, tmp_path).send_email, make_touch(dana()), clock, on_retry=resume_after_three
    )

    assert outcome.errors == [DELIVERY_DEFERRED] * 3, f"attempts: {outcome.errors}"
    assert clock() - started == timedelta(minutes=45)
    assert len(sent_emails(aws)) == 1
