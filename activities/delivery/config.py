"""Where touches go and who signs them: plain models, filled in by the worker's settings.

No environment reads here; the defaults describe a fictional B2B service business so
that the engine runs end to end with no configuration at all.
"""

from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from workflows.send_window_models import SendWindowPolicy


class SenderProfile(BaseModel):
    """The person a touch comes from: a lead's owner, or the default sender."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    title: str = Field(min_length=1)
    email: EmailStr
    phone: str | None = None
    signature: str | None = Field(
        default=None, description="Replaces the generated sign-off (name, title, company, phone)"
    )


_AWS_REGION = r"^[a-z]{2}(-[a-z]+)+-\d+$"
_DOMAIN = r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"


class SesConfig(BaseModel):
    """Email through Amazon SES v2 (activities/delivery/ses.py), when `email_transport` is "ses".

    The From address is the lead owner's (`DeliveryConfig.owners`, else the default
    sender); each must be a verified SES identity in `region`.
    """

    model_config = ConfigDict(extra="forbid")

    region: str = Field(pattern=_AWS_REGION, description="e.g. us-east-1")
    configuration_set: str = Field(
        min_length=1,
        max_length=64,
        description="Publishes the Send, Delivery, Bounce and Complaint events the ingestion worker reads",
    )
    endpoint_url: str | None = Field(
        default=None, pattern=r"^https?://\S+$", description="Tests and emulators (moto) only"
    )
    message_id_domain: str | None = Field(
        default=None,
        pattern=_DOMAIN,
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


class LedgerConfig(BaseModel):
    """The send ledger (activities/stores/ledger.py): SQLite for one host, DynamoDB for several."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["sqlite", "dynamodb"] = "sqlite"
    path: Path | None = Field(
        default=None, description="SQLite file; send-ledger.sqlite3 beside the outbox directory when unset"
    )
    table: str = Field(default="touchpoint-send-ledger", pattern=r"^[A-Za-z0-9_.-]{3,255}$")
    region: str | None = Field(default=None, pattern=_AWS_REGION, description="DynamoDB region")
    endpoint_url: str | None = Field(
        default=None, pattern=r"^https?://\S+$", description="Tests and emulators (moto) only"
    )
    in_doubt_grace_seconds: float = Field(
        default=600,
        # Longer than an email activity may run (2 minutes): a claim younger than that
        # may belong to an attempt still in flight.
        ge=150,
        description=(
            "How long a send whose outcome is unknown waits for the provider's event before it "
            "is sent again; must exceed the send activity's start-to-close timeout"
        ),
    )

    @model_validator(mode="after")
    def _dynamodb_region(self) -> "LedgerConfig":
        if self.kind == "dynamodb" and self.region is None:
            raise ValueError("the DynamoDB ledger needs a region")
        return self


class SnsSmsConfig(BaseModel):
    """Texts through Amazon SNS (activities/delivery/sns_sms.py); unset means the local SMS outbox."""

    model_config = ConfigDict(extra="forbid")

    region: str = Field(pattern=_AWS_REGION, description="An SNS region that sends SMS, e.g. us-east-1")
    endpoint_url: str | None = Field(
        default=None, pattern=r"^https?://\S+$", description="Tests and emulators (moto) only"
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
        pattern=r"^https?://\S+$",
        description="A FIFO queue (name ends in .fifo) makes a retried activity create a task once",
    )
    region: str = Field(pattern=_AWS_REGION, description="The queue's region, e.g. us-east-1")
    endpoint_url: str | None = Field(
        default=None, pattern=r"^https?://\S+$", description="Tests and emulators (moto) only"
    )


QueueKind = Literal["events", "replies", "sms"]


class IngestConfig(BaseModel):
    """TOUCHPOINT_INGEST: the queues `touchpoint ingest` reads (at least one) and its DLQ."""

    model_config = ConfigDict(extra="forbid")

    region: str = Field(pattern=_AWS_REGION, description="e.g. us-east-1")
    endpoint_url: str | None = Field(default=None, pattern=r"^https?://\S+$", description="Tests and emulators (moto) only")
    events_queue_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    replies_queue_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    sms_queue_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    dead_letter_queue_url: str = Field(pattern=r"^https?://\S+$", description="Where unreadable messages go, with the reason")
    wait_seconds: int = Field(default=20, ge=0, le=20, description="SQS long-poll wait")
    batch_size: int = Field(default=10, ge=1, le=10)
    max_receives: int = Field(default=10, ge=1, le=1000)
    click_settle_seconds: float = Field(default=30.0, ge=0, le=600)
    scanner_after_delivery_seconds: float = Field(default=10.0, ge=0, le=3600)
    remember_event_ids: int = Field(default=100_000, ge=0)
    report_every_seconds: float = Field(default=60.0, gt=0)

    @model_validator(mode="after")
    def _some_queue(self) -> "IngestConfig":
        if not (self.events_queue_url or self.replies_queue_url or self.sms_queue_url):
            raise ValueError(
                "name at least one queue: events_queue_url (SES events), replies_queue_url "
                "(SES inbound mail) or sms_queue_url (inbound SMS)"
            )
        return self

    def queues(self) -> dict[QueueKind, str]:
        urls: dict[QueueKind, str | None] = {
            "events": self.events_queue_url,
            "replies": self.replies_queue_url,
            "sms": self.sms_queue_url,
        }
        return {kind: url for kind, url in urls.items() if url}


class DeliveryConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    company_name: str = "Harborview Operations Group"
    company_url: str = Field(default="https://harborview.example", pattern=r"^https?://")
    postal_address: str = "200 Harbor Street, Suite 400, Portland, ME 04101, USA"
    outbox_dir: Path = Path("var/outbox")
    sms_outbox_file: Path = Path("var/sms-outbox.jsonl")
    tasks_file: Path = Path("var/rep-tasks.jsonl")
    sns_sms: SnsSmsConfig | None = Field(default=None, description="Send texts through SNS")
    tasks_queue: SqsTaskQueueConfig | None = Field(default=None, description="Send rep tasks to SQS")
    default_sender: SenderProfile = SenderProfile(
        name="Jordan Ellis",
        title="Client Partner",
        email="jordan.ellis@harborview.example",
        phone="+12075550123",
    )
    owners: dict[str, SenderProfile] = Field(
        default_factory=dict, description="Sender per lead owner id (Lead.owner)"
    )
    templates_dir: Path | None = Field(
        default=None,
        description="A file here replaces the packaged one of the same name; the rest still apply",
    )
    cadences_dir: Path | None = Field(
        default=None, description="Replaces the packaged cadences as a whole"
    )
    send_windows: SendWindowPolicy = Field(
        default_factory=SendWindowPolicy,
        description="Hours, holidays and jitter for plan_send when the workflow gives no policy",
    )
    # Email delivery: the outbox unless "ses" or "smtp" is chosen and configured.
    email_transport: Literal["outbox", "ses", "smtp"] = Field(
        default="outbox", description="outbox: .eml files in outbox_dir; ses and smtp need their settings"
    )
    ses: SesConfig | None = None
    smtp: SmtpConfig | None = None
    ledger: LedgerConfig = Field(default_factory=LedgerConfig)
    token_secret: SecretStr | None = Field(
        default=None, description="Signs unsubscribe links and reply-to addresses (activities/common/tokens.py)"
    )
    unsubscribe_base_url: str | None = Field(
        default=None,
        pattern=r"^https://\S+$",
        description="Where workers/unsubscribe.py is served; links read <base>/u/<token>",
    )
    reply_to_domain: str | None = Field(
        default=None,
        pattern=_DOMAIN,
        description="Replies go to replies+<lead id>.<signature>@<domain>; the owner's address when unset",
    )
    thread_follow_ups: bool = Field(
        default=True, description="Send a touch as a reply to the one TouchInput.thread_with names"
    )

    @field_validator("company_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        # Templates append paths ("{{ company.url }}/case-studies").
        return value.rstrip("/")

    @field_validator("token_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        # Tokens are in every email: a short secret could be guessed from one offline.
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("token_secret must be at least 16 characters (e.g. `openssl rand -hex 32`)")
        return value

    @field_validator("unsubscribe_base_url")
    @classmethod
    def _no_trailing_slash_on_base(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _email_transport_settings(self) -> "DeliveryConfig":
        transport = self.email_transport
        if transport == "ses" and self.ses is None:
            raise ValueError("email_transport 'ses' needs the ses settings (region, configuration_set)")
        if transport == "smtp" and self.smtp is None:
            raise ValueError("email_transport 'smtp' needs the smtp settings (host, port)")
        if transport == "ses" and (self.token_secret is None or self.unsubscribe_base_url is None):
            # Mailbox providers require RFC 8058 one-click unsubscribe from bulk senders.
            raise ValueError(
                "email_transport 'ses' needs token_secret and unsubscribe_base_url "
                "for the one-click unsubscribe link"
            )
        if (self.unsubscribe_base_url or self.reply_to_domain) and self.token_secret is None:
            raise ValueError("unsubscribe_base_url and reply_to_domain need token_secret to sign with")
        return self

    @property
    def ledger_path(self) -> Path:
        """The SQLite ledger's file: `ledger.path`, else beside the outbox directory."""
        return self.ledger.path or self.outbox_dir.parent / "send-ledger.sqlite3"

    def sender_for(self, owner: str | None) -> SenderProfile:
        return self.owners.get(owner or "", self.default_sender)
