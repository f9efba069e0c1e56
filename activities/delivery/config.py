"""Where touches go: local files, or SES, SMTP, SNS and SQS, and what signs their links.

A plain model (workers/settings.py reads it from TOUCHPOINT_* variables, one per field;
the nested ones are JSON objects). Unset, everything goes to local files under var/.
"""

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from activities.common.config import AWS_REGION, DOMAIN, HTTP_URL, FieldsError
from activities.common.tokens import GOOD_SECRET_HINT, secret_weakness, split_secrets


class SesConfig(BaseModel):
    """Email through Amazon SES v2 (activities/delivery/ses.py), when `email_transport` is "ses".

    The From address is the lead owner's (`ContentConfig.owners`, else the default
    sender); each must be a verified SES identity in `region`.
    """

    model_config = ConfigDict(extra="forbid")

    region: str = Field(pattern=AWS_REGION, description="e.g. us-east-1")
    configuration_set: str = Field(
        min_length=1,
        max_length=64,
        description="Publishes the Send, Delivery, Bounce and Complaint events the ingestion worker reads",
    )
    endpoint_url: str | None = Field(
        default=None, pattern=HTTP_URL, description="Tests and emulators (moto) only"
    )
    message_id_domain: str | None = Field(
        default=None,
        pattern=DOMAIN,
        description="Domain of the Message-IDs SES stamps; derived from the region when unset",
    )
    check_suppression_list: bool = Field(
        default=True, description="Ask SES's account suppression list before every send"
    )


class SmtpConfig(BaseModel):
    """Email through an SMTP relay (activities/delivery/smtp.py), when `email_transport` is "smtp"."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = Field(default=True, description="Upgrade the connection before AUTH and MAIL")
    ca_file: Path | None = Field(
        default=None, description="CA certificates to trust for STARTTLS; the system's when unset"
    )
    timeout_seconds: float = Field(default=30, gt=0, le=300)

    @model_validator(mode="after")
    def _credentials_together(self) -> "SmtpConfig":
        if (self.username is None) != (self.password is None):
            raise ValueError("SMTP username and password must be set together")
        return self


class SnsSmsConfig(BaseModel):
    """Texts through Amazon SNS (activities/delivery/sns_sms.py); unset means the local SMS outbox."""

    model_config = ConfigDict(extra="forbid")

    region: str = Field(pattern=AWS_REGION, description="An SNS region that sends SMS, e.g. us-east-1")
    endpoint_url: str | None = Field(
        default=None, pattern=HTTP_URL, description="Tests and emulators (moto) only"
    )
    sms_type: Literal["Transactional", "Promotional"] = Field(
        default="Transactional", description="Transactional: higher delivery priority, higher price"
    )
    sender_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9]{1,11}$",
        description="1-11 letters and digits, at least one letter; where the destination country supports one",
    )
    origination_number: str | None = Field(
        default=None,
        pattern=r"^\+[1-9]\d{3,14}$",
        description="E.164 long code, toll-free number or short code registered to the account",
    )
    max_price_usd: float | None = Field(default=None, gt=0, description="Refuse a text costing more")

    @field_validator("sender_id")
    @classmethod
    def _sender_id_has_a_letter(cls, value: str | None) -> str | None:
        if value is not None and value.isdigit():
            raise ValueError(f"sender ID {value!r} needs at least one letter (all digits reads as a phone number)")
        return value


class SqsTaskQueueConfig(BaseModel):
    """Rep tasks to an SQS queue (activities/delivery/sqs_tasks.py); unset means the local task file."""

    model_config = ConfigDict(extra="forbid")

    queue_url: str = Field(
        pattern=HTTP_URL,
        description="A FIFO queue (name ends in .fifo) makes a retried activity create a task once",
    )
    region: str = Field(pattern=AWS_REGION, description="The queue's region, e.g. us-east-1")
    endpoint_url: str | None = Field(
        default=None, pattern=HTTP_URL, description="Tests and emulators (moto) only"
    )


class DeliveryConfig(BaseModel):
    # Errors never echo the input: token_secret is one of the fields.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    # Local files: where touches go when no provider is configured.
    var_dir: Path = Field(default=Path("var"), description="Directory for local files")
    outbox_dir: Path = Field(default_factory=lambda data: data["var_dir"] / "outbox")
    sms_outbox_file: Path = Field(default_factory=lambda data: data["var_dir"] / "sms-outbox.jsonl")
    tasks_file: Path = Field(default_factory=lambda data: data["var_dir"] / "rep-tasks.jsonl")
    # Email: the outbox unless "ses" or "smtp" is chosen and configured.
    email_transport: Literal["outbox", "ses", "smtp"] = Field(
        default="outbox", description="outbox: .eml files in outbox_dir; ses and smtp need their settings"
    )
    ses: SesConfig | None = None
    smtp: SmtpConfig | None = None
    sns_sms: SnsSmsConfig | None = Field(default=None, description="Send texts through SNS")
    tasks_queue: SqsTaskQueueConfig | None = Field(default=None, description="Send rep tasks to SQS")
    token_secret: SecretStr | None = Field(
        default=None,
        description=(
            "Signs unsubscribe links and reply-to addresses (activities/common/tokens.py); "
            "`new,old` while rotating: the first signs, all verify"
        ),
    )
    unsubscribe_base_url: str | None = Field(
        default=None,
        pattern=r"^https://\S+$",
        description="Where `touchpoint web` is served (workers/web/unsubscribe.py); links read <base>/u/<token>",
    )
    reply_to_domain: str | None = Field(
        default=None,
        pattern=DOMAIN,
        description="Replies go to replies+<lead id>.<signature>@<domain>; the owner's address when unset",
    )
    thread_follow_ups: bool = Field(
        default=True, description="Send a touch as a reply to the one TouchInput.thread_with names"
    )

    @field_validator("token_secret")
    @classmethod
    def _strong(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return value
        secrets = split_secrets(value.get_secret_value())
        for number, secret in enumerate(secrets, 1):
            # Which one, by position: the message must never quote a secret.
            which = "{token_secret}" if len(secrets) == 1 else f"secret {number} of {{token_secret}}"
            problem = "it is empty" if not secret else secret_weakness(secret)
            if problem:
                raise FieldsError(f"{which} is too weak: {problem}; {GOOD_SECRET_HINT}")
        return value

    @property
    def token_secrets(self) -> list[str]:
        """Every token secret, the signing one first; empty when none is set."""
        return split_secrets(self.token_secret.get_secret_value()) if self.token_secret else []

    @field_validator("unsubscribe_base_url")
    @classmethod
    def _no_trailing_slash_on_base(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _email_transport_settings(self) -> "DeliveryConfig":
        transport = self.email_transport
        if transport == "ses" and self.ses is None:
            raise FieldsError("{email_transport} 'ses' needs the {ses} settings (region, configuration_set)")
        if transport == "smtp" and self.smtp is None:
            raise FieldsError("{email_transport} 'smtp' needs the {smtp} settings (host, port)")
        if transport == "ses" and (self.token_secret is None or self.unsubscribe_base_url is None):
            # Mailbox providers require RFC 8058 one-click unsubscribe from bulk senders.
            raise FieldsError(
                "{email_transport} 'ses' needs {token_secret} and {unsubscribe_base_url} "
                "for the one-click unsubscribe link"
            )
        if (self.unsubscribe_base_url or self.reply_to_domain) and self.token_secret is None:
            raise FieldsError("{unsubscribe_base_url} and {reply_to_domain} need {token_secret} to sign with")
        return self
