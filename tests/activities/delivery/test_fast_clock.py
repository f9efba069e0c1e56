"""Issue 12, finding 8: a lead on a fast clock never reaches a real service.

Delivery to local files and to emulators (an endpoint_url) goes on as before; to SES,
SMTP, SNS or SQS the touch is refused with an error the workflow pauses the lead on.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError

from activities.content.config import ContentConfig
from activities.content.templates import TemplateRenderer
from activities.delivery.config import DeliveryConfig, SesConfig, SmtpConfig, SnsSmsConfig, SqsTaskQueueConfig
from activities.delivery.email import EmailActivities, OutboxTransport
from activities.delivery.rep_tasks import JsonlTaskSink, RepTaskActivities
from activities.delivery.ses import SesTransport
from activities.delivery.sms import SmsActivities, SmsOutboxTransport
from activities.delivery.smtp import SmtpTransport
from activities.delivery.sns_sms import SnsSmsTransport
from activities.delivery.sqs_tasks import SqsTaskSink
from activities.stores.ledger import ClaimStatus, SqliteSendLedger
from workflows import names
from workflows.models import EnrollLead, RepTaskInput, TouchInput

FAST = 10_000_000
SES = SesConfig(region="us-east-1", configuration_set="touchpoint")


class NoNetwork:
    """A boto3 client stand-in: any call means the touch went out."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"{name} was called: the touch reached the service")


def fast(touch: TouchInput, speedup: float = FAST) -> TouchInput:
    return touch.model_copy(update={"speedup": speedup})


def assert_refused(raised: pytest.ExceptionInfo[ApplicationError], service: str) -> None:
    error = raised.value
    assert error.type in names.BLOCKING_ERRORS, "the workflow pauses the lead on it"
    assert error.non_retryable
    assert f"speedup {FAST:g}" in error.message and service in error.message
    assert "demos and tests" in error.message and "endpoint_url" in error.message


def emails(transport: Any, config: DeliveryConfig, content: ContentConfig, renderer: TemplateRenderer):
    ledger = SqliteSendLedger(config.outbox_dir.parent / "ledger.sqlite3")
    return EmailActivities(renderer, transport, content, config, ledger=ledger), ledger


@pytest.mark.parametrize(
    ("transport", "service"),
    [
        (SesTransport(NoNetwork(), SES), "SES"),
        (SmtpTransport(SmtpConfig(host="smtp.invalid")), "SMTP relay"),
    ],
    ids=["ses", "smtp"],
)
def test_a_fast_email_to_a_real_service_is_refused_before_anything_is_claimed(
    transport: Any,
    service: str,
    config: DeliveryConfig,
    content: ContentConfig,
    renderer: TemplateRenderer,
    example: EnrollLead,
    make_touch: Callable[..., TouchInput],
) -> None:
    activities, ledger = emails(transport, config, content, renderer)
    touch = fast(make_touch(example.lead, "follow-up", "day-1-case-study"))

    with pytest.raises(ApplicationError) as raised:
        activities.send_email(touch)

    assert_refused(raised, service)
    assert "dana" not in raised.value.message.lower()
    # Nothing was claimed: the key is fresh for a later attempt.
    claim = ledger.claim(touch.send_key, lead_id="crm-0042", channel="email", now=datetime.now(UTC))
    assert claim.status == ClaimStatus.FRESH


def test_fast_email_to_the_outbox_or_an_emulator_goes_out(
    config: DeliveryConfig,
    content: ContentConfig,
    renderer: TemplateRenderer,
    example: EnrollLead,
    make_touch: Callable[..., TouchInput],
) -> None:
    outbox, _ = emails(OutboxTransport(config.outbox_dir), config, content, renderer)
    touch = fast(make_touch(example.lead, "follow-up", "day-1-case-study"))

    assert outbox.send_email(touch).status == "sent"
    assert SesTransport(NoNetwork(), SES.model_copy(update={"endpoint_url": "http://127.0.0.1:5000"})).service is None


def test_real_time_email_through_a_real_service_is_not_refused(
    config: DeliveryConfig,
    content: ContentConfig,
    renderer: TemplateRenderer,
    example: EnrollLead,
    make_touch: Callable[..., TouchInput],
) -> None:
    activities, _ = emails(SesTransport(NoNetwork(), SES), config, content, renderer)

    # Past the guard: the stand-in client is asked for the suppression-free send.
    with pytest.raises(AssertionError, match="was called"):
        activities.send_email(fast(make_touch(example.lead, "follow-up", "day-1-case-study"), speedup=1))


def test_a_fast_text_through_sns_is_refused_and_the_sms_outbox_or_moto_is_not(
    content: ContentConfig,
    renderer: TemplateRenderer,
    config: DeliveryConfig,
    example: EnrollLead,
    make_touch: Callable[..., TouchInput],
) -> None:
    lead = example.lead.model_copy(update={"sms_consent": True})
    touch = fast(make_touch(lead, "dunning", "day-7-text-reminder"))
    sns = SmsActivities(renderer, SnsSmsTransport(NoNetwork(), SnsSmsConfig(region="us-east-1")), content)
    local = SmsActivities(renderer, SmsOutboxTransport(config.sms_outbox_file), content)

    with pytest.raises(ApplicationError) as raised:
        sns.send_sms(touch)

    assert_refused(raised, "SNS")
    assert local.send_sms(touch).status == "sent"
    emulated = SnsSmsConfig(region="us-east-1", endpoint_url="http://127.0.0.1:5000")
    assert SnsSmsTransport(NoNetwork(), emulated).service is None


def test_a_fast_call_task_to_sqs_is_refused_and_the_task_file_or_moto_is_not(
    content: ContentConfig,
    renderer: TemplateRenderer,
    config: DeliveryConfig,
    example: EnrollLead,
    make_touch: Callable[..., TouchInput],
) -> None:
    touch = fast(make_touch(example.lead, "dunning", "day-10-call", context={"amount": "$1,200.00"}))
    task = RepTaskInput(task_id=touch.send_key, kind="call", lead_id="crm-0042", title="", touch=touch)
    queue_url = "https://sqs.us-east-1.amazonaws.com/123456789012/tasks.fifo"
    sqs = RepTaskActivities(renderer, SqsTaskSink(NoNetwork(), queue_url), content)
    local = RepTaskActivities(renderer, JsonlTaskSink(config.tasks_file), content)

    with pytest.raises(ApplicationError) as raised:
        sqs.create_rep_task(task)

    assert_refused(raised, "SQS")
    assert local.create_rep_task(task).status == "task_created"
    emulated = SqsTaskQueueConfig(queue_url=queue_url, region="us-east-1", endpoint_url="http://127.0.0.1:5000")
    assert SqsTaskSink.from_config(emulated).service is None


def test_a_fast_leads_reply_task_is_not_sent_to_sqs_and_the_run_goes_on(
    content: ContentConfig, renderer: TemplateRenderer, config: DeliveryConfig
) -> None:
    """A task no cadence step made (a reply, a trigger) has no touch: the lead's speedup
    rides on the task. Skipped rather than raised: a failure there would end the run."""
    task = RepTaskInput(task_id="crm-0042:task-1", kind="reply", lead_id="crm-0042", title="Reply", speedup=FAST)
    queue_url = "https://sqs.us-east-1.amazonaws.com/123456789012/tasks.fifo"
    sqs = RepTaskActivities(renderer, SqsTaskSink(NoNetwork(), queue_url), content)
    local = RepTaskActivities(renderer, JsonlTaskSink(config.tasks_file), content)

    skipped = sqs.create_rep_task(task)
    assert skipped.status == "skipped" and f"speedup {FAST:g}" in skipped.detail and "SQS" in skipped.detail
    assert local.create_rep_task(task).status == "task_created"
