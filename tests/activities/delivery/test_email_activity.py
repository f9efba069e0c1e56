"""The local email outbox: one parseable .eml per send key, however often an activity retries."""

import email
from collections.abc import Callable
from email.message import Message
from email.policy import default
from pathlib import Path

import pytest
from structlog.testing import capture_logs
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.content.config import ContentConfig
from activities.content.templates import TemplateRenderer
from activities.delivery.config import DeliveryConfig
from activities.delivery.email import EmailActivities, OutboxTransport
from workflows import names
from workflows.models import EnrollLead, TouchInput


@pytest.fixture
def emails(renderer: TemplateRenderer, content: ContentConfig, config: DeliveryConfig) -> EmailActivities:
    return EmailActivities(renderer, OutboxTransport(config.outbox_dir), content, config)


def outbox(config: DeliveryConfig) -> list[Path]:
    return sorted(config.outbox_dir.iterdir()) if config.outbox_dir.exists() else []


def parse(path: Path) -> Message:
    return email.message_from_bytes(path.read_bytes(), policy=default)


def test_same_send_key_twice_writes_one_email_and_returns_the_same_id(
    emails: EmailActivities,
    config: DeliveryConfig,
    example: EnrollLead,
    make_touch: Callable[..., TouchInput],
) -> None:
    touch = make_touch(example.lead, "follow-up", "day-1-case-study", context=example.context)

    first = emails.send_email(touch)
    retried = emails.send_email(touch)

    assert first.status == retried.status == "sent"
    assert first.message_id == retried.message_id
    assert len(outbox(config)) == 1


def test_eml_parses_back_with_headers_and_both_parts(
    emails: EmailActivities,
    content: ContentConfig,
    config: DeliveryConfig,
    example: EnrollLead,
    make_touch: Callable[..., TouchInput],
) -> None:
    touch = make_touch(
        example.lead, "follow-up", "day-3-discovery-challenge", context=example.context
    )
    result = emails.send_email(touch)

    [path] = outbox(config)
    assert path.suffix == ".eml" and ":" not in path.name and "/" not in path.name
    message = parse(path)
    assert message["To"] == "Dana Reyes <dana@acme.example>"
    assert message["From"] == f"{content.default_sender.name} <{content.default_sender.email}>"
    assert message["Subject"] == "About manual dispatch"
    assert message["Message-ID"] == result.message_id
    assert message["X-Touchpoint-Send-Key"] == touch.send_key
    assert message["Date"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Hi Dana," in text and "dispatch takes 3 people" in text
    assert "<p>Hi Dana,</p>" in html and "dispatch takes 3 people" in html


def test_send_keys_that_differ_only_in_separators_get_separate_files(
    emails: EmailActivities,
    config: DeliveryConfig,
    example: EnrollLead,
    make_touch: Callable[..., TouchInput],
) -> None:
    for send_key in ("crm-0042:follow-up/day-1", "crm-0042_follow-up_day-1"):
        emails.send_email(
            make_touch(example.lead, "follow-up", "day-1-case-study", send_key=send_key)
        )

    files = outbox(config)
    assert len(files) == 2
    assert {parse(path)["X-Touchpoint-Send-Key"] for path in files} == {
        "crm-0042:follow-up/day-1",
        "crm-0042_follow-up_day-1",
    }


def test_template_error_fails_without_retry_and_sends_nothing(
    tmp_path: Path,
    config: DeliveryConfig,
    example: EnrollLead,
    make_touch: Callable[..., TouchInput],
) -> None:
    broken = tmp_path / "templates" / "follow-up" / "case-study.email.j2"
    broken.parent.mkdir(parents=True)
    broken.write_text(
        '{% extends "_layouts/email.j2" %}{% block subject %}{{ lead.nickname }}{% endblock %}'
    )
    emails = EmailActivities(
        TemplateRenderer(tmp_path / "templates"), OutboxTransport(config.outbox_dir), ContentConfig(), config
    )

    with pytest.raises(ApplicationError) as raised:
        ActivityEnvironment().run(
            emails.send_email, make_touch(example.lead, "follow-up", "day-1-case-study")
        )

    assert raised.value.type == names.TEMPLATE_ERROR
    assert raised.value.non_retryable
    assert (
        "follow-up/case-study.email.j2" in raised.value.message
        and "nickname" in raised.value.message
    )
    assert outbox(config) == []


def test_logs_carry_ids_but_no_address_or_name(
    emails: EmailActivities, example: EnrollLead, make_touch: Callable[..., TouchInput]
) -> None:
    with capture_logs() as logs:
        ActivityEnvironment().run(
            emails.send_email, make_touch(example.lead, "nurture", "industry-insight")
        )

    [entry] = logs
    assert entry["lead_id"] == "crm-0042" and entry["step"] == "industry-insight"
    logged = repr(logs)
    for private in ("dana@acme.example", "Dana", "Reyes", "+13125550142"):
        assert private not in logged
