"""The send ledger, on SQLite and on DynamoDB (moto): one claim per send key, and the
in-doubt policy that keeps a crashed send from going out twice."""

import sqlite3
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.testing import ActivityEnvironment

from activities.common.aws import aws_client as make_aws_client
from activities.content.config import ContentConfig
from activities.content.templates import TemplateRenderer
from activities.delivery.claims import claim_send
from activities.delivery.config import DeliveryConfig
from activities.delivery.email import build_email_activities
from activities.delivery.errors import SEND_IN_DOUBT, DeliveryInDoubt
from activities.stores.config import LedgerConfig, StoresConfig
from activities.stores.ledger import Claim, ClaimStatus, DynamoDbSendLedger, SendLedger, SqliteSendLedger
from tests.support.email_support import REGION, FakeClock, dana, make_touch

KEY = "crm-0042:00001:day-1-case-study"
GRACE = timedelta(seconds=600)


@pytest.fixture(params=["sqlite", "dynamodb"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SendLedger]:
    if request.param == "sqlite":
        yield SqliteSendLedger(tmp_path / "ledger.sqlite3")
        return
    endpoint = request.getfixturevalue("aws")
    client = make_aws_client("dynamodb", region=REGION, endpoint_url=endpoint)
    DynamoDbSendLedger.create_table(client, "touchpoint-send-ledger")
    yield DynamoDbSendLedger(client, "touchpoint-send-ledger")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def claim(ledger: SendLedger, clock: FakeClock, key: str = KEY) -> Claim:
    return ledger.claim(key, lead_id="crm-0042", channel="email", now=clock())


def test_the_first_claim_is_fresh_and_a_second_is_in_doubt_since_the_first(
    ledger: SendLedger, clock: FakeClock
) -> None:
    first_at = clock()
    assert claim(ledger, clock) == Claim.fresh()
    clock.advance(timedelta(seconds=5))
    assert claim(ledger, clock) == Claim.in_doubt(first_at)


def test_a_marked_send_reads_as_sent_with_its_id(ledger: SendLedger, clock: FakeClock) -> None:
    claim(ledger, clock)
    ledger.mark_sent(KEY, "0100-abc")
    assert claim(ledger, clock) == Claim.sent("0100-abc")


def test_a_released_claim_can_be_claimed_again(ledger: SendLedger, clock: FakeClock) -> None:
    claim(ledger, clock)
    ledger.release(KEY)
    assert claim(ledger, clock).status == ClaimStatus.FRESH


def test_release_never_forgets_a_send_that_went_out(ledger: SendLedger, clock: FakeClock) -> None:
    claim(ledger, clock)
    ledger.mark_sent(KEY, "0100-abc")
    ledger.release(KEY)
    assert claim(ledger, clock) == Claim.sent("0100-abc")


def test_a_provider_event_reconciles_an_in_doubt_claim(ledger: SendLedger, clock: FakeClock) -> None:
    claim(ledger, clock)
    ledger.record_provider_event(KEY, "0100-from-event")
    assert claim(ledger, clock) == Claim.sent("0100-from-event")
    ledger.release(KEY)
    assert claim(ledger, clock) == Claim.sent("0100-from-event")


def test_a_provider_event_for_a_key_never_claimed_still_blocks_a_send(
    ledger: SendLedger, clock: FakeClock
) -> None:
    ledger.record_provider_event(KEY, "0100-from-event")
    assert claim(ledger, clock) == Claim.sent("0100-from-event")


def test_only_one_take_over_of_an_in_doubt_claim_wins(ledger: SendLedger, clock: FakeClock) -> None:
    claimed_at = clock()
    claim(ledger, clock)
    clock.advance(GRACE)
    assert ledger.take_over(KEY, claimed_at=claimed_at, now=clock())
    assert not ledger.take_over(KEY, claimed_at=claimed_at, now=clock())
    assert claim(ledger, clock) == Claim.in_doubt(clock())


def test_send_keys_are_independent(ledger: SendLedger, clock: FakeClock) -> None:
    claim(ledger, clock)
    assert claim(ledger, clock, "crm-0042:00002:day-3-discovery-challenge") == Claim.fresh()


def test_concurrent_claims_of_one_key_give_exactly_one_fresh(ledger: SendLedger, clock: FakeClock) -> None:
    results: list[Claim] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def contend() -> None:
        start.wait()
        got = claim(ledger, clock)
        with lock:
            results.append(got)

    threads = [threading.Thread(target=contend) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = [result.status for result in results]
    assert statuses.count(ClaimStatus.FRESH) == 1, f"claims: {statuses}"
    assert statuses.count(ClaimStatus.IN_DOUBT) == 7, f"claims: {statuses}"


def test_opt_outs_keep_the_first_reason(ledger: SendLedger, clock: FakeClock) -> None:
    assert ledger.opt_out("crm-0042") is None
    ledger.record_opt_out("crm-0042", reason="UNSUBSCRIBE", at=clock())
    clock.advance(timedelta(days=1))
    ledger.record_opt_out("crm-0042", reason="COMPLAINT", at=clock())

    opt_out = ledger.opt_out("crm-0042")
    assert opt_out is not None and opt_out.reason == "UNSUBSCRIBE"
    assert ledger.opt_out("crm-0043") is None
    # An opt-out is not a send: the lead's send keys are untouched.
    assert claim(ledger, clock) == Claim.fresh()


# ------------------------------------------------------------ the in-doubt policy


def test_policy_in_doubt_within_the_grace_raises_retryable_with_when_to_look_again(
    ledger: SendLedger, clock: FakeClock
) -> None:
    claim(ledger, clock)
    clock.advance(timedelta(seconds=580))

    with pytest.raises(DeliveryInDoubt) as raised:
        claim_send(ledger, KEY, lead_id="crm-0042", channel="email", now=clock(), grace=GRACE)

    error = raised.value.to_application_error()
    assert error.type == SEND_IN_DOUBT and not error.non_retryable
    assert "send outcome in doubt, waiting for reconciliation" in error.message
    assert error.next_retry_delay == timedelta(seconds=20)


def test_policy_takes_over_once_the_grace_has_passed(ledger: SendLedger, clock: FakeClock) -> None:
    claim(ledger, clock)
    clock.advance(GRACE)

    assert claim_send(ledger, KEY, lead_id="crm-0042", channel="email", now=clock(), grace=GRACE) == Claim.fresh()
    # The take-over is a claim of its own: another attempt now waits again.
    with pytest.raises(DeliveryInDoubt):
        claim_send(ledger, KEY, lead_id="crm-0042", channel="email", now=clock(), grace=GRACE)


def test_policy_returns_the_reconciled_id_instead_of_waiting(ledger: SendLedger, clock: FakeClock) -> None:
    claim(ledger, clock)
    ledger.record_provider_event(KEY, "0100-from-event")

    got = claim_send(ledger, KEY, lead_id="crm-0042", channel="email", now=clock(), grace=GRACE)

    assert got == Claim.sent("0100-from-event")


# ------------------------------------------------------------------ implementation


def test_sqlite_ledger_is_one_wal_file_that_survives_reopening(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "nested" / "ledger.sqlite3"
    claim(SqliteSendLedger(path), clock)
    SqliteSendLedger(path).mark_sent(KEY, "0100-abc")

    assert claim(SqliteSendLedger(path), clock) == Claim.sent("0100-abc")
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT count(*) FROM sends").fetchone()[0] == 1


def test_dynamodb_ledger_keeps_one_item_per_send_key(aws: str, clock: FakeClock) -> None:
    client: Any = make_aws_client("dynamodb", region=REGION, endpoint_url=aws)
    DynamoDbSendLedger.create_table(client, "ledger")
    ledger = DynamoDbSendLedger(client, "ledger")
    claim(ledger, clock)
    ledger.mark_sent(KEY, "0100-abc")
    claim(ledger, clock)

    items = {item["send_key"]["S"]: item for item in client.scan(TableName="ledger")["Items"]}
    # The send, and the message-id lookup item that replies are matched with.
    assert sorted(items) == ["#message#0100-abc", KEY]
    assert items[KEY]["message_id"] == {"S": "0100-abc"} and items[KEY]["lead_id"] == {"S": "crm-0042"}
    assert items["#message#0100-abc"]["target"] == {"S": KEY}


def test_build_email_activities_keeps_the_ledger_in_dynamodb_when_configured(aws: str, tmp_path: Path) -> None:
    client: Any = make_aws_client("dynamodb", region=REGION, endpoint_url=aws)
    DynamoDbSendLedger.create_table(client, "touchpoint-send-ledger")
    config = DeliveryConfig(outbox_dir=tmp_path / "outbox")
    stores = StoresConfig(ledger=LedgerConfig(kind="dynamodb", region=REGION, endpoint_url=aws))
    touch = make_touch(dana())

    emails = build_email_activities(ContentConfig(), config, stores, TemplateRenderer())
    result = ActivityEnvironment().run(emails.send_email, touch)

    item = client.get_item(TableName="touchpoint-send-ledger", Key={"send_key": {"S": touch.send_key}})["Item"]
    assert item["message_id"] == {"S": result.message_id}
    assert not (tmp_path / "send-ledger.sqlite3").exists()


def test_a_message_id_finds_its_send_key_whether_ours_or_the_providers(
    ledger: SendLedger, clock: FakeClock
) -> None:
    ledger.claim("crm-1:00001:day-1", lead_id="crm-1", channel="email", now=clock())
    ledger.mark_sent("crm-1:00001:day-1", "<tp.abc@acme.example>")
    ledger.record_provider_event("crm-1:00002:day-3", "0100018c-ses-id-000000")
    assert ledger.send_for_message("<tp.abc@acme.example>") == "crm-1:00001:day-1"
    assert ledger.send_for_message("0100018c-ses-id-000000") == "crm-1:00002:day-3"
    assert ledger.send_for_message("<someone-else@example.com>") is None


def test_recipients_map_a_phone_hash_to_every_lead_texted_there(ledger: SendLedger) -> None:
    ledger.record_recipient("sms", "hash-1", "crm-2")
    ledger.record_recipient("sms", "hash-1", "crm-1")
    ledger.record_recipient("sms", "hash-1", "crm-1")
    ledger.record_recipient("sms", "hash-2", "crm-3")
    assert ledger.leads_for_recipient("sms", "hash-1") == ["crm-1", "crm-2"]
    assert ledger.leads_for_recipient("sms", "hash-9") == []
    assert ledger.leads_for_recipient("email", "hash-1") == []
