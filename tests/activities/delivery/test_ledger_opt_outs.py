"""An opt-out in the send ledger (what the unsubscribe endpoint records) stops every email
and every text to the lead, and the skip closes the lead as unsubscribed."""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from activities.content.config import ContentConfig
from activities.content.templates import TemplateRenderer
from activities.delivery.config import DeliveryConfig
from activities.delivery.email import EmailActivities, OutboxTransport
from activities.delivery.sms import SmsActivities, SmsOutboxTransport
from activities.stores.ledger import SqliteSendLedger
from workflows.models import EnrollLead, Outcome, TouchInput
from workflows.transitions import suppression_outcome


def opted_out(tmp_path: Path, lead_id: str) -> SqliteSendLedger:
    ledger = SqliteSendLedger(tmp_path / "ledger.sqlite3")
    ledger.record_opt_out(lead_id, reason="unsubscribe", at=datetime.now(UTC))
    return ledger


def test_an_opted_out_lead_gets_no_email_and_is_closed_as_unsubscribed(
    tmp_path: Path,
    renderer: TemplateRenderer,
    content: ContentConfig,
    config: DeliveryConfig,
    example: EnrollLead,
    make_touch: Callable[..., TouchInput],
) -> None:
    ledger = opted_out(tmp_path, example.lead.id)
    emails = EmailActivities(renderer, OutboxTransport(config.outbox_dir), content, config, ledger=ledger)

    result = emails.send_email(make_touch(example.lead, "follow-up", "day-1-case-study", context=example.context))

    assert result.status == "skipped" and result.detail.startswith("suppressed: UNSUBSCRIBE")
    assert suppression_outcome(result.status, result.detail) == Outcome.UNSUBSCRIBED
    assert not config.outbox_dir.exists() or list(config.outbox_dir.iterdir()) == []


def test_an_opted_out_lead_gets_no_text_and_is_closed_as_unsubscribed(
    tmp_path: Path,
    renderer: TemplateRenderer,
    content: ContentConfig,
    config: DeliveryConfig,
    example: EnrollLead,
    make_touch: Callable[..., TouchInput],
) -> None:
    ledger = opted_out(tmp_path, example.lead.id)
    lead = example.lead.model_copy(update={"sms_consent": True})
    texts = SmsActivities(renderer, SmsOutboxTransport(config.sms_outbox_file), content, ledger=ledger)

    result = texts.send_sms(make_touch(lead, "dunning", "day-7-text-reminder", context={"amount": "$1,200.00"}))

    assert result.status == "skipped" and result.detail.startswith("suppressed: UNSUBSCRIBE")
    assert suppression_outcome(result.status, result.detail) == Outcome.UNSUBSCRIBED
    assert not config.sms_outbox_file.exists()
