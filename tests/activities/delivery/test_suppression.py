"""A suppressed address gets nothing: the touch is skipped with a reason the workflow can
close the lead on, and nothing reaches SES.

moto has no suppression list API, so `SesWire` answers `GetSuppressedDestination` at
the HTTP layer of the real boto3 client, in the shape SES documents.
"""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.content.config import ContentConfig
from activities.content.templates import TemplateRenderer
from activities.delivery.config import DeliveryConfig, SesConfig
from activities.delivery.email import EmailActivities
from activities.delivery.errors import DELIVERY_DEFERRED, DeliveryDeferred
from activities.delivery.ses import SesTransport
from activities.delivery.suppression import SUPPRESSED_PREFIX, OptOutList, SesSuppressionList, Suppressed, Suppressions
from activities.stores.ledger import ClaimStatus, SqliteSendLedger
from tests.support.email_support import (
    CONFIGURATION_SET,
    REGION,
    SECRET,
    SENDER_DOMAIN,
    UNSUBSCRIBE_BASE,
    FakeClock,
    SesWire,
    dana,
    make_touch,
    sent_emails,
)


@pytest.fixture
def ledger(tmp_path: Path) -> SqliteSendLedger:
    return SqliteSendLedger(tmp_path / "ledger.sqlite3")


@pytest.fixture
def emails(ses: Any, ledger: SqliteSendLedger, tmp_path: Path) -> EmailActivities:
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
        suppression=Suppressions(OptOutList(ledger), SesSuppressionList(ses)),
    )


@pytest.mark.parametrize("reason", ["BOUNCE", "COMPLAINT"])
def test_an_address_on_the_ses_list_is_skipped_with_the_reason(
    emails: EmailActivities, wire: SesWire, aws: str, ledger: SqliteSendLedger, reason: str
) -> None:
    wire.suppressed["dana@acme.example"] = reason
    touch = make_touch(dana())

    result = ActivityEnvironment().run(emails.send_email, touch)

    assert result.status == "skipped" and result.message_id is None
    assert result.detail == f"suppressed: {reason} (SES account suppression list, since 2026-03-01)"
    assert result.detail.startswith(SUPPRESSED_PREFIX) and "dana" not in result.detail
    assert sent_emails(aws) == [] and wire.send_requests == []
    # Nothing went out, so the key is free again.
    assert ledger.claim(touch.send_key, lead_id="crm-0042", channel="email", now=FakeClock()()).status == ClaimStatus.FRESH


def test_a_lead_in_the_opt_out_table_is_skipped_without_asking_ses(
    emails: EmailActivities, wire: SesWire, aws: str, ledger: SqliteSendLedger
) -> None:
    ledger.record_opt_out("crm-0042", reason="UNSUBSCRIBE", at=datetime(2026, 4, 2, 9, 30, tzinfo=UTC))

    result = ActivityEnvironment().run(emails.send_email, make_touch(dana()))

    assert result.status == "skipped"
    assert result.detail == "suppressed: UNSUBSCRIBE (opt-out table, since 2026-04-02)"
    assert wire.calls["GetSuppressedDestination"] == 0 and sent_emails(aws) == []


def test_an_address_not_on_any_list_is_sent(emails: EmailActivities, wire: SesWire, aws: str) -> None:
    wire.suppressed["someone.else@acme.example"] = "BOUNCE"

    result = ActivityEnvironment().run(emails.send_email, make_touch(dana()))

    assert result.status == "sent" and len(sent_emails(aws)) == 1


def test_every_send_asks_again(emails: EmailActivities, wire: SesWire, aws: str) -> None:
    ActivityEnvironment().run(emails.send_email, make_touch(dana()))
    wire.suppressed["dana@acme.example"] = "COMPLAINT"

    later = ActivityEnvironment().run(emails.send_email, make_touch(dana(), "day-3-discovery-challenge", seq=2))

    assert later.status == "skipped" and len(sent_emails(aws)) == 1


def test_a_throttled_lookup_is_retried_and_sends_nothing(
    emails: EmailActivities, wire: SesWire, aws: str, ledger: SqliteSendLedger
) -> None:
    wire.fault = lambda operation, _: (
        (429, "TooManyRequestsException", "Rate exceeded") if operation == "GetSuppressedDestination" else None
    )
    touch = make_touch(dana())

    with pytest.raises(ApplicationError) as raised:
        ActivityEnvironment().run(emails.send_email, touch)

    assert raised.value.type == DELIVERY_DEFERRED and not raised.value.non_retryable
    assert sent_emails(aws) == []
    assert ledger.claim(touch.send_key, lead_id="crm-0042", channel="email", now=FakeClock()()).status == ClaimStatus.FRESH


def test_a_lost_lookup_answer_is_simply_asked_again(ses: Any, wire: SesWire) -> None:
    wire.fault = lambda operation, _: (500, "InternalFailure", "oops")

    with pytest.raises(DeliveryDeferred):
        SesSuppressionList(ses).check(dana())


def test_the_first_list_that_names_the_lead_wins() -> None:
    class Fixed:
        def __init__(self, found: Suppressed | None) -> None:
            self.found = found
            self.asked = 0

        def check(self, lead: Any) -> Suppressed | None:
            self.asked += 1
            return self.found

    first, second = Fixed(Suppressed("UNSUBSCRIBE", "opt-out table")), Fixed(Suppressed("BOUNCE", "SES"))

    assert Suppressions(Fixed(None), first, second).check(dana()) == first.found
    assert second.asked == 0
