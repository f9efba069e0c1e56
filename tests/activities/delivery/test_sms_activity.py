"""SMS goes only to leads who agreed to it, once per send key."""

import json
from collections.abc import Callable

import pytest
from structlog.testing import capture_logs

from activities.content.config import ContentConfig
from activities.content.templates import TemplateRenderer
from activities.delivery.config import DeliveryConfig
from activities.delivery.sms import SmsActivities, SmsOutboxTransport
from activities.stores.config import LedgerConfig
from workflows.models import EnrollLead, TouchInput


@pytest.fixture
def texts(renderer: TemplateRenderer, content: ContentConfig, config: DeliveryConfig) -> SmsActivities:
    return SmsActivities(renderer, SmsOutboxTransport(config.sms_outbox_file), content)


def sent(config: DeliveryConfig) -> list[dict]:
    if not config.sms_outbox_file.exists():
        return []
    return [json.loads(line) for line in config.sms_outbox_file.read_text().splitlines()]


def test_lead_without_consent_is_skipped_not_failed(
    texts: SmsActivities,
    config: DeliveryConfig,
    example: EnrollLead,
    make_touch: Callable[..., TouchInput],
) -> None:
    assert example.lead.phone and not example.lead.sms_consent

    result = texts.send_sms(make_touch(example.lead, "dunning", "day-7-text-reminder"))

    assert result.status == "skipped"
    assert result.detail == "no SMS consent on file"
    assert sent(config) == []


def test_lead_without_phone_is_skipped(
    texts: SmsActivities,
    config: DeliveryConfig,
    example: EnrollLead,
    make_touch: Callable[..., TouchInput],
) -> None:
    lead = example.lead.model_copy(update={"phone": None, "sms_consent": True})

    result = texts.send_sms(make_touch(lead, "dunning", "day-7-text-reminder"))

    assert (result.status, result.detail) == ("skipped", "no phone number on file")
    assert sent(config) == []


def test_same_send_key_twice_sends_one_text(
    texts: SmsActivities,
    config: DeliveryConfig,
    example: EnrollLead,
    make_touch: Callable[..., TouchInput],
) -> None:
    lead = example.lead.model_copy(update={"sms_consent": True})
    touch = make_touch(lead, "dunning", "day-7-text-reminder", context={"amount": "$1,200.00"})

    first = texts.send_sms(touch)
    retried = texts.send_sms(touch)

    assert first.status == "sent" and first.message_id == retried.message_id
    [line] = sent(config)
    assert line["send_key"] == touch.send_key and line["to"] == "+13125550142"
    assert "$1,200.00" in line["text"] and line["text"].endswith("Reply STOP to opt out.")


def test_logs_never_carry_the_phone_number(
    texts: SmsActivities, example: EnrollLead, make_touch: Callable[..., TouchInput]
) -> None:
    lead = example.lead.model_copy(update={"sms_consent": True})
    with capture_logs() as logs:
        texts.send_sms(make_touch(lead, "dunning", "day-7-text-reminder"))

    assert logs and all(entry["lead_id"] == "crm-0042" for entry in logs)
    assert "+13125550142" not in repr(logs) and "Dana" not in repr(logs)


def test_a_text_records_its_recipient_hash_so_a_stop_finds_the_lead(
    renderer: TemplateRenderer,
    config: DeliveryConfig,
    example: EnrollLead,
    make_touch: Callable[..., TouchInput],
) -> None:
    from activities.common.phones import phone_key
    from activities.stores.ledger import SqliteSendLedger

    ledger = SqliteSendLedger(LedgerConfig().sqlite_path(beside=config.outbox_dir))
    texts = SmsActivities(renderer, SmsOutboxTransport(config.sms_outbox_file), ContentConfig(), ledger=ledger)
    lead = example.lead.model_copy(update={"sms_consent": True})

    assert texts.send_sms(make_touch(lead, "dunning", "day-7-text-reminder")).status == "sent"

    assert ledger.leads_for_recipient("sms", phone_key(lead.phone)) == [lead.id]
    with ledger._connect() as db:  # the number itself is never stored
        assert lead.phone not in repr(db.execute("SELECT * FROM recipients").fetchall())
