"""Token secrets: one or several in TOUCHPOINT_TOKEN_SECRET (the first signs, all verify),
and weak ones refused with how to make a good one, never quoting them."""

import email
import os
from collections.abc import Callable, Iterator
from email.policy import default

import pytest
from pydantic import ValidationError

from activities.common.tokens import make_unsubscribe_token, verify_reply_token, verify_unsubscribe_token
from activities.content.config import ContentConfig
from activities.content.templates import TemplateRenderer
from activities.delivery.config import DeliveryConfig
from activities.delivery.email import EmailActivities, OutboxTransport
from workers.settings import Settings
from workflows.models import EnrollLead, TouchInput

NEW = "9f2c4e7a1b3d5f60718293a4b5c6d7e8"
OLD = "0123456789abcdef0123456789abcdef"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("TOUCHPOINT_"):
            monkeypatch.delenv(name)
    yield


def test_one_secret_in_the_variable_still_works(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOUCHPOINT_TOKEN_SECRET", OLD)
    assert Settings().delivery.token_secrets == [OLD]


def test_a_list_signs_with_the_first_and_verifies_with_all(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOUCHPOINT_TOKEN_SECRET", f"{NEW}, {OLD}")
    secrets = Settings().delivery.token_secrets
    assert secrets == [NEW, OLD]
    sent_before_rotation = make_unsubscribe_token("crm-0042", OLD)
    assert verify_unsubscribe_token(sent_before_rotation, secrets) == "crm-0042"


def test_the_email_activity_signs_with_the_first_secret(
    renderer: TemplateRenderer,
    content: ContentConfig,
    config: DeliveryConfig,
    example: EnrollLead,
    make_touch: Callable[..., TouchInput],
) -> None:
    config = config.model_copy(
        update={
            "token_secret": DeliveryConfig(token_secret=f"{NEW},{OLD}").token_secret,
            "unsubscribe_base_url": "https://t.example",
            "reply_to_domain": "reply.example",
        }
    )
    emails = EmailActivities(renderer, OutboxTransport(config.outbox_dir), content, config)
    emails.send_email(make_touch(example.lead, "follow-up", "day-1-case-study", context=example.context))
    [path] = config.outbox_dir.iterdir()
    message = email.message_from_bytes(path.read_bytes(), policy=default)
    token = str(message["List-Unsubscribe"]).split(",")[0].strip(" <>").rpartition("/u/")[2]
    assert verify_unsubscribe_token(token, NEW) == "crm-0042"
    assert verify_reply_token(str(message["Reply-To"]), NEW) == "crm-0042"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("a" * 16, "only 1 distinct characters"),
        ("abababababababababab", "only 2 distinct characters"),
        ("short", "it has 5 characters"),
        (f"{NEW},{'a' * 32}", "secret 2 of token_secret is too weak"),
        (f"{NEW},", "secret 2 of token_secret is too weak: it is empty"),
    ],
)
def test_weak_secrets_are_refused_with_how_to_make_one(value: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        DeliveryConfig(token_secret=value)
    text = str(caught.value)
    assert message in text and "openssl rand -hex 32" in text
    assert "a" * 16 not in text and "abab" not in text and "short" not in text


def test_the_settings_error_names_the_variable_and_never_echoes_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    weak = "zzzzzzzzzzzzzzzzzzzz"
    monkeypatch.setenv("TOUCHPOINT_TOKEN_SECRET", f"{NEW},{weak}")
    with pytest.raises(ValidationError) as caught:
        Settings()
    text = str(caught.value)
    assert "secret 2 of TOUCHPOINT_TOKEN_SECRET is too weak" in text and "openssl rand -hex 32" in text
    assert weak not in text and NEW not in text
