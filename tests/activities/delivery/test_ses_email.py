"""Email through SES v2, as moto records it: one raw message per touch, with our headers,
tags and threading, whatever the retries."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, ConnectTimeoutError, ReadTimeoutError
from structlog.testing import capture_logs
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.common.aws import aws_client as make_aws_client
from activities.common.ses_tags import tag_text, tag_value
from activities.common.tokens import verify_reply_token, verify_unsubscribe_token
from activities.content.config import ContentConfig, SenderProfile
from activities.content.templates import TemplateRenderer
from activities.delivery.config import DeliveryConfig, SesConfig
from activities.delivery.email import EmailActivities
from activities.delivery.errors import DELIVERY_REJECTED, DeliveryDeferred, DeliveryInDoubt, DeliveryRejected
from activities.delivery.ses import SesTransport, ses_delivery_error
from activities.delivery.suppression import OptOutList, SesSuppressionList, Suppressions
from activities.registry import build_activities
from activities.stores.config import LedgerConfig, StoresConfig
from activities.stores.ledger import ClaimStatus, SqliteSendLedger
from tests.support.email_support import (
    CONFIGURATION_SET,
    REGION,
    REPLY_DOMAIN,
    SECRET,
    SENDER_DOMAIN,
    UNSUBSCRIBE_BASE,
    FakeClock,
    SesWire,
    dana,
    make_touch,
    parse,
    sent_emails,
    set_up_sender,
)
from workflows.models import TouchInput

OWNER = SenderProfile(name="Sam Ortiz", title="Account Executive", email=f"sam.ortiz@{SENDER_DOMAIN}")
CONTENT = ContentConfig(owners={"rep-7": OWNER})


class ThreadedTouchInput(TouchInput):
    """TouchInput with the field the workflow adds to name the touch being followed up."""

    thread_with: str | None = None


def delivery_config(tmp_path: Path, **changes: Any) -> DeliveryConfig:
    values: dict[str, Any] = {
        "outbox_dir": tmp_path / "outbox",
        "email_transport": "ses",
        "ses": SesConfig(region=REGION, configuration_set=CONFIGURATION_SET),
        "token_secret": SECRET,
        "unsubscribe_base_url": UNSUBSCRIBE_BASE,
        "reply_to_domain": REPLY_DOMAIN,
    }
    return DeliveryConfig(**(values | changes))


@pytest.fixture
def config(tmp_path: Path) -> DeliveryConfig:
    return delivery_config(tmp_path)


@pytest.fixture
def ledger(tmp_path: Path) -> SqliteSendLedger:
    return SqliteSendLedger(tmp_path / "ledger.sqlite3")


def ses_emails(
    ses: Any,
    config: DeliveryConfig,
    ledger: SqliteSendLedger,
    clock: FakeClock | None = None,
    content: ContentConfig = CONTENT,
) -> EmailActivities:
    assert config.ses is not None
    return EmailActivities(
        TemplateRenderer(),
        SesTransport(ses, config.ses),
        content,
        config,
        ledger=ledger,
        suppression=Suppressions(OptOutList(ledger), SesSuppressionList(ses)),
        clock=clock,
    )


def test_one_raw_email_with_sender_reply_token_unsubscribe_and_both_parts(
    ses: Any, wire: SesWire, aws: str, config: DeliveryConfig, ledger: SqliteSendLedger
) -> None:
    touch = make_touch(dana())

    result = ActivityEnvironment().run(ses_emails(ses, config, ledger).send_email, touch)

    [sent] = sent_emails(aws)
    assert result.status == "sent" and result.message_id == sent["id"]
    message = parse(sent["raw_data"])
    assert message["From"] == f"Sam Ortiz <sam.ortiz@{SENDER_DOMAIN}>"
    assert message["To"] == "Dana Reyes <dana@acme.example>"
    assert message["Subject"]
    reply_to = message["Reply-To"].addresses[0].addr_spec
    assert reply_to.startswith("replies+crm-0042.") and reply_to.endswith(f"@{REPLY_DOMAIN}")
    assert verify_reply_token(reply_to, SECRET) == "crm-0042"
    https, mailto = [part.strip(" <>") for part in message["List-Unsubscribe"].split(",")]
    assert https.startswith(f"{UNSUBSCRIBE_BASE}/u/")
    assert verify_unsubscribe_token(https.removeprefix(f"{UNSUBSCRIBE_BASE}/u/"), SECRET) == "crm-0042"
    assert mailto == f"mailto:{reply_to}?subject=unsubscribe"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "In-Reply-To" not in message
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Hi Dana," in text and "200 Harbor Street" in text
    assert "<p>Hi Dana,</p>" in html and "200 Harbor Street" in html


def test_request_names_the_configuration_set_and_tags_ids_only(
    ses: Any, wire: SesWire, config: DeliveryConfig, ledger: SqliteSendLedger
) -> None:
    touch = make_touch(dana("crm.0042_b"))

    ActivityEnvironment().run(ses_emails(ses, config, ledger).send_email, touch)

    [request] = wire.send_requests
    assert request["ConfigurationSetName"] == CONFIGURATION_SET
    tags = wire.tags()
    assert set(tags) == {"lead_id", "send_key", "content_id"}
    assert tag_text(tags["content_id"]) == touch.step.content
    assert all(set(value) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") for value in tags.values())
    assert tag_text(tags["lead_id"]) == "crm.0042_b"
    assert tag_text(tags["send_key"]) == touch.send_key
    for private in ("dana", "acme", "Reyes", "@"):
        assert private not in repr(tags)


def test_a_retry_after_success_returns_the_same_id_and_sends_nothing(
    ses: Any, aws: str, config: DeliveryConfig, ledger: SqliteSendLedger
) -> None:
    emails = ses_emails(ses, config, ledger)
    touch = make_touch(dana())

    first = ActivityEnvironment().run(emails.send_email, touch)
    retried = ActivityEnvironment().run(emails.send_email, touch)

    assert retried.message_id == first.message_id
    assert len(sent_emails(aws)) == 1


def test_a_follow_up_replies_to_the_previous_ses_message(
    ses: Any, aws: str, config: DeliveryConfig, ledger: SqliteSendLedger
) -> None:
    emails = ses_emails(ses, config, ledger)
    first = ActivityEnvironment().run(emails.send_email, make_touch(dana()))
    follow_up = make_touch(
        dana(), "day-3-discovery-challenge", seq=2, touch_type=ThreadedTouchInput, thread_with=first.message_id
    )

    ActivityEnvironment().run(emails.send_email, follow_up)

    second = parse(sent_emails(aws)[1]["raw_data"])
    # us-east-1 stamps <id@email.amazonses.com>; other regions <id@<region>.amazonses.com>.
    assert second["In-Reply-To"] == f"<{first.message_id}@email.amazonses.com>"
    assert second["References"] == f"<{first.message_id}@email.amazonses.com>"


def test_threading_off_sends_a_follow_up_as_a_new_conversation(
    ses: Any, aws: str, tmp_path: Path
) -> None:
    config = delivery_config(tmp_path, thread_follow_ups=False)
    emails = ses_emails(ses, config, SqliteSendLedger(tmp_path / "ledger.sqlite3"))
    follow_up = make_touch(dana(), seq=2, touch_type=ThreadedTouchInput, thread_with="0100018f-abc")

    ActivityEnvironment().run(emails.send_email, follow_up)

    [sent] = sent_emails(aws)
    assert "In-Reply-To" not in parse(sent["raw_data"])


@pytest.mark.parametrize(
    ("region", "expected"),
    [("us-east-1", "<0100-x@email.amazonses.com>"), ("eu-west-1", "<0100-x@eu-west-1.amazonses.com>")],
)
def test_ses_message_ids_become_the_header_ses_stamps(region: str, expected: str) -> None:
    transport = SesTransport(None, SesConfig(region=region, configuration_set="c"))
    assert transport.header_message_id("0100-x") == expected


def test_an_unverified_sender_is_rejected_for_good_with_a_reason_and_frees_the_key(
    ses: Any, aws: str, tmp_path: Path
) -> None:
    stranger = SenderProfile(name="Pat", title="AE", email="pat@unverified.example")
    config = delivery_config(tmp_path)
    ledger = SqliteSendLedger(tmp_path / "ledger.sqlite3")
    touch = make_touch(dana())
    emails = ses_emails(ses, config, ledger, content=ContentConfig(owners={"rep-7": stranger}))

    with pytest.raises(ApplicationError) as raised, capture_logs() as logs:
        ActivityEnvironment().run(emails.send_email, touch)

    assert raised.value.type == DELIVERY_REJECTED and raised.value.non_retryable
    assert "pat@unverified.example" not in repr(logs) and "dana@acme.example" not in repr(logs)
    assert "pat@unverified.example" in raised.value.message and "verified identity" in raised.value.message
    assert "dana@acme.example" not in raised.value.message
    assert sent_emails(aws) == []
    assert ledger.claim(touch.send_key, lead_id="crm-0042", channel="email", now=FakeClock()()).status == ClaimStatus.FRESH


def test_build_activities_sends_through_ses_when_configured(aws: str, tmp_path: Path) -> None:
    set_up_sender(make_aws_client("sesv2", region=REGION, endpoint_url=aws))
    config = delivery_config(
        tmp_path,
        # moto has no suppression list API; real SES is asked before every send.
        ses=SesConfig(region=REGION, configuration_set=CONFIGURATION_SET, endpoint_url=aws, check_suppression_list=False),
    )
    stores = StoresConfig(ledger=LedgerConfig(path=tmp_path / "ledger.sqlite3"))
    activities = build_activities(content=CONTENT, delivery=config, stores=stores)
    [send_email] = [fn for fn in activities if getattr(fn, "__name__", "") == "send_email"]

    result = ActivityEnvironment().run(send_email, make_touch(dana()))

    assert [sent["id"] for sent in sent_emails(aws)] == [result.message_id]
    assert not (tmp_path / "outbox").exists()


def test_the_outbox_stays_the_default_with_no_aws_settings(tmp_path: Path) -> None:
    config = DeliveryConfig(outbox_dir=tmp_path / "outbox")
    [send_email] = [fn for fn in build_activities(delivery=config) if getattr(fn, "__name__", "") == "send_email"]

    result = ActivityEnvironment().run(send_email, make_touch(dana()))

    assert config.email_transport == "outbox"
    assert len(list((tmp_path / "outbox").iterdir())) == 1
    assert SqliteSendLedger(tmp_path / "send-ledger.sqlite3").claim(
        make_touch(dana()).send_key, lead_id="crm-0042", channel="email", now=FakeClock()()
    ).message_id == result.message_id


# ------------------------------------------------------------------ tags, errors


@pytest.mark.parametrize("text", ["crm-0042:00001:day-1-case-study", "a.b_c:00002:x", "ünï:00003:y", "-"])
def test_tag_values_use_ses_characters_and_decode_back(text: str) -> None:
    value = tag_value(text)
    assert set(value) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
    assert tag_text(value) == text


def test_a_tag_too_long_for_ses_is_hashed_and_does_not_decode() -> None:
    value = tag_value("." * 100)
    assert len(value) <= 256 and tag_text(value) is None


def client_error(code: str, status: int, message: str = "nope") -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "SendEmail",
    )


@pytest.mark.parametrize(
    ("error", "kind", "retry_after"),
    [
        (client_error("TooManyRequestsException", 429), DeliveryDeferred, None),
        (client_error("LimitExceededException", 400), DeliveryDeferred, None),
        (client_error("Throttling", 400), DeliveryDeferred, None),
        (client_error("ServiceUnavailable", 503), DeliveryDeferred, None),
        (client_error("InternalFailure", 500), DeliveryInDoubt, None),
        (client_error("AccountSuspendedException", 400), DeliveryDeferred, timedelta(minutes=15)),
        (client_error("SendingPausedException", 400), DeliveryDeferred, timedelta(minutes=15)),
        (client_error("AccessDeniedException", 403), DeliveryDeferred, timedelta(minutes=15)),
        (client_error("MessageRejected", 400), DeliveryRejected, None),
        (client_error("MailFromDomainNotVerifiedException", 400), DeliveryRejected, None),
        (client_error("BadRequestException", 400), DeliveryRejected, None),
        (client_error("NotFoundException", 404), DeliveryRejected, None),
        (ConnectTimeoutError(endpoint_url="https://email.us-east-1.amazonaws.com"), DeliveryDeferred, None),
        (ReadTimeoutError(endpoint_url="https://email.us-east-1.amazonaws.com"), DeliveryInDoubt, None),
    ],
)
def test_ses_errors_are_classified_by_what_they_mean_for_the_send(
    error: Exception, kind: type, retry_after: timedelta | None
) -> None:
    failure = ses_delivery_error(error, config=SesConfig(region=REGION, configuration_set=CONFIGURATION_SET))
    assert type(failure) is kind
    assert failure.retry_after == retry_after
    application_error = failure.to_application_error()
    assert application_error.non_retryable == (kind is DeliveryRejected)


def test_a_missing_configuration_set_is_named_in_the_rejection() -> None:
    failure = ses_delivery_error(
        client_error("NotFoundException", 404, "Configuration set <touchpoint-events> does not exist."),
        config=SesConfig(region="eu-west-1", configuration_set="touchpoint-events"),
    )
    assert "'touchpoint-events'" in str(failure) and "eu-west-1" in str(failure)


def test_the_recipient_address_never_reaches_the_error_message() -> None:
    failure = ses_delivery_error(
        client_error("MessageRejected", 400, "Email address is not verified: Dana@Acme.example"),
        recipient="dana@acme.example",
    )
    assert "acme" not in str(failure).lower() and "<recipient>" in str(failure)



def test_the_ses_client_makes_one_attempt_per_call_so_only_temporal_retries(ses: Any, wire: SesWire) -> None:
    # botocore's own retry of a 5xx would resend behind the ledger's back.
    wire.fault = lambda operation, _: (500, "InternalFailure", "internal error") if operation == "SendEmail" else None

    with pytest.raises(ClientError):
        ses.send_email(
            FromEmailAddress=f"jordan@{SENDER_DOMAIN}",
            Destination={"ToAddresses": ["dana@acme.example"]},
            Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}},
        )

    assert wire.calls["SendEmail"] == 1
