"""Email delivery settings: the outbox with no AWS settings, and a clear error for every
half-configured transport."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from activities.delivery.config import DeliveryConfig, SesConfig, SmtpConfig
from activities.stores.config import LedgerConfig, StoresConfig

SES = SesConfig(region="eu-west-1", configuration_set="touchpoint-events")
SECRET = "0123456789abcdef-secret"


def test_with_no_settings_email_goes_to_the_outbox_with_a_sqlite_ledger_beside_it() -> None:
    config, ledger = DeliveryConfig(), StoresConfig().ledger
    assert config.email_transport == "outbox"
    assert ledger.kind == "sqlite"
    assert ledger.sqlite_path(beside=config.outbox_dir) == Path("var/send-ledger.sqlite3")
    assert ledger.in_doubt_grace_seconds == 600


def test_an_explicit_ledger_path_wins() -> None:
    ledger = LedgerConfig(path=Path("/data/ledger.db"))
    assert ledger.sqlite_path(beside=DeliveryConfig().outbox_dir) == Path("/data/ledger.db")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"email_transport": "ses"}, "needs the ses settings"),
        ({"email_transport": "ses", "ses": SES}, "one-click unsubscribe"),
        ({"email_transport": "smtp"}, "needs the smtp settings"),
        ({"reply_to_domain": "reply.example"}, "need token_secret"),
        ({"unsubscribe_base_url": "https://t.example"}, "need token_secret"),
        ({"unsubscribe_base_url": "http://t.example", "token_secret": SECRET}, "unsubscribe_base_url"),
        ({"token_secret": "short"}, "at least 16 characters"),
    ],
)
def test_half_configured_email_is_refused_with_what_is_missing(settings: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        DeliveryConfig(**settings)


def test_a_complete_ses_configuration_is_accepted() -> None:
    config = DeliveryConfig(
        email_transport="ses",
        ses=SES,
        token_secret=SECRET,
        unsubscribe_base_url="https://t.example/",
        reply_to_domain="reply.example",
    )
    assert config.unsubscribe_base_url == "https://t.example"
    assert SECRET not in repr(config)


def test_smtp_credentials_come_in_pairs_and_the_password_stays_hidden() -> None:
    with pytest.raises(ValidationError, match="together"):
        SmtpConfig(host="mail.example", username="touchpoint")
    smtp = SmtpConfig(host="mail.example", username="touchpoint", password="hunter2")
    assert "hunter2" not in repr(smtp)


def test_a_dynamodb_ledger_needs_a_region() -> None:
    with pytest.raises(ValidationError, match="region"):
        LedgerConfig(kind="dynamodb")
    assert LedgerConfig(kind="dynamodb", region="us-east-1").table == "touchpoint-send-ledger"
