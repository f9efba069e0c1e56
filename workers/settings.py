"""Settings: every TOUCHPOINT_* environment variable the processes read, in one object.

Nothing is read at import time; `Settings()` reads and validates the environment when
a process starts, so tests construct it with their own values.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AliasGenerator,
    EmailStr,
    Field,
    FilePath,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from activities.delivery.config import (
    DeliveryConfig,
    IngestConfig,
    LedgerConfig,
    SenderProfile,
    SesConfig,
    SmtpConfig,
    SnsSmsConfig,
    SqsTaskQueueConfig,
)
from workflows import names
from workflows.send_window_models import SendWindowPolicy, iana_zone

ENV_PREFIX = "TOUCHPOINT_"
# Built from constants only: no I/O, no environment.
_DELIVERY_DEFAULTS = DeliveryConfig()


def env_name(field: str) -> str:
    """The environment variable that sets `field`, e.g. TOUCHPOINT_LOG_FORMAT."""
    return f"{ENV_PREFIX}{field.upper()}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        # Errors never echo the raw input: it holds every TOUCHPOINT_* value, secrets too.
        hide_input_in_errors=True,
        env_prefix=ENV_PREFIX,
        # The alias is the variable's full name, so a validation error names the
        # variable the operator set rather than the Python field behind it.
        alias_generator=AliasGenerator(validation_alias=env_name),
        validate_by_name=True,
    )

    # -- Temporal connection
    temporal_address: str = Field(default="localhost:7233", description="host:port of the Temporal frontend")
    namespace: str = Field(default="default", min_length=1)
    task_queue: str = Field(default=names.DEFAULT_TASK_QUEUE, min_length=1)
    # mTLS for a self-hosted cluster or Temporal Cloud; setting any of these turns TLS on.
    tls_cert_path: FilePath | None = None
    tls_key_path: FilePath | None = None
    tls_ca_path: FilePath | None = Field(default=None, description="CA for the server; system roots when unset")
    tls_server_name: str | None = Field(default=None, description="Server name to expect in the server certificate")
    api_key: SecretStr | None = Field(default=None, description="Temporal Cloud API key; implies TLS")

    # -- Local files (the outbox replaces real delivery when no AWS is configured)
    var_dir: Path = Path("var")
    # Unset means a file under var_dir (filled in by _files_under_var_dir).
    outbox_dir: Path | None = None
    sms_outbox_file: Path | None = None
    tasks_file: Path | None = None
    cadences_dir: Path | None = Field(default=None, description="Cadence files; the bundled ones when unset")
    templates_dir: Path | None = Field(default=None, description="Templates; the bundled ones when unset")

    # -- Who the messages come from. Defaults are the activities' own fictional sender,
    # so the engine runs with no configuration; every commercial email carries the
    # postal address.
    company_name: str = Field(default=_DELIVERY_DEFAULTS.company_name, min_length=1)
    company_url: str = Field(default=_DELIVERY_DEFAULTS.company_url, pattern=r"^https?://\S+$")
    postal_address: str = Field(default=_DELIVERY_DEFAULTS.postal_address, min_length=1)
    sender_name: str = Field(default=_DELIVERY_DEFAULTS.default_sender.name, min_length=1)
    sender_title: str = Field(default=_DELIVERY_DEFAULTS.default_sender.title, min_length=1)
    sender_email: EmailStr = _DELIVERY_DEFAULTS.default_sender.email
    sender_phone: str | None = _DELIVERY_DEFAULTS.default_sender.phone
    sender_signature: str | None = _DELIVERY_DEFAULTS.default_sender.signature
    # NoDecode: parsed by _owners_json, so bad JSON is reported against the variable.
    owners: Annotated[dict[str, SenderProfile], NoDecode] = Field(
        default_factory=dict,
        description='JSON: owner id -> sender profile, e.g. {"rep-7": {"name": …, "title": …, "email": …}}',
    )

    # -- Delivery through AWS or SMTP. Unset: local files (outbox, JSON lines). The nested
    # ones are JSON objects with the fields of activities/delivery/config.py's models, e.g.
    # TOUCHPOINT_SES='{"region": "us-east-1", "configuration_set": "touchpoint"}'.
    email_transport: Literal["outbox", "ses", "smtp"] = "outbox"
    # Email on its own task queue, where one rate holds across all worker processes.
    email_task_queue: str | None = Field(default=None, min_length=1)
    email_rate_per_second: float | None = Field(
        default=None, gt=0, description="Unset with SES: 90% of the account's MaxSendRate"
    )
    ses: SesConfig | None = None
    smtp: SmtpConfig | None = None
    ledger: LedgerConfig | None = Field(
        default=None, description="Send ledger; SQLite beside the outbox when unset"
    )
    sns_sms: SnsSmsConfig | None = None
    tasks_queue: SqsTaskQueueConfig | None = None
    # `touchpoint ingest`: the SQS queues SES events, inbound mail and texts arrive on.
    ingest: IngestConfig | None = None
    token_secret: SecretStr | None = Field(
        default=None, description="Signs unsubscribe links and reply-to addresses (16+ characters)"
    )
    unsubscribe_base_url: str | None = None
    reply_to_domain: str | None = None
    thread_follow_ups: bool = _DELIVERY_DEFAULTS.thread_follow_ups
    unsubscribe_host: str = "127.0.0.1"
    unsubscribe_port: int = Field(default=8088, ge=1, le=65535)

    # -- Send windows: the hours per channel are the policy's; these are the knobs ops turn.
    default_timezone: str = Field(
        default=_DELIVERY_DEFAULTS.send_windows.default_timezone,
        description="IANA zone for leads and reps with no zone on file",
    )
    # NoDecode: comma-separated ISO dates, parsed by _comma_separated_dates.
    company_holidays: Annotated[tuple[date, ...], NoDecode] = Field(
        default=(), description="Days nothing is sent, e.g. 2026-12-24,2026-12-31"
    )
    send_jitter_minutes: int = Field(
        default=_DELIVERY_DEFAULTS.send_windows.jitter_minutes, ge=0, le=24 * 60
    )
    skip_public_holidays: bool = _DELIVERY_DEFAULTS.send_windows.skip_public_holidays

    # -- Process
    log_format: Literal["console", "json"] = "console"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    max_concurrent_activities: int = Field(default=20, ge=1, le=1000)
    max_cached_workflows: int = Field(default=1000, ge=0)
    # Sends are short; this bounds how long a stopping worker waits for in-flight ones
    # (below Kubernetes' default 30 s termination grace period).
    graceful_shutdown_seconds: float = Field(default=20, ge=0, le=3600)

    @field_validator("default_timezone")
    @classmethod
    def _iana_zone(cls, value: str) -> str:
        return iana_zone(value)

    @field_validator("company_holidays", mode="before")
    @classmethod
    def _comma_separated_dates(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("temporal_address")
    @classmethod
    def _host_port(cls, value: str) -> str:
        if not re.fullmatch(r"[^\s:/]+:\d{1,5}", value):
            raise ValueError(f"{value!r} is not host:port, e.g. localhost:7233 or my-ns.a1b2c.tmprl.cloud:7233")
        return value

    @field_validator("owners", mode="before")
    @classmethod
    def _owners_json(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except json.JSONDecodeError as err:
            raise ValueError(
                f"not valid JSON ({err}); expected an object of owner id -> "
                '{"name": ..., "title": ..., "email": ..., "phone": ..., "signature": ...}'
            ) from None

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _client_cert_pair(self) -> Settings:
        if (self.tls_cert_path is None) != (self.tls_key_path is None):
            raise ValueError(
                f"{env_name('tls_cert_path')} and {env_name('tls_key_path')} must be set together (mTLS)"
            )
        return self

    @model_validator(mode="after")
    def _files_under_var_dir(self) -> Settings:
        self.outbox_dir = self.outbox_dir or self.var_dir / "outbox"
        self.sms_outbox_file = self.sms_outbox_file or self.var_dir / "sms-outbox.jsonl"
        self.tasks_file = self.tasks_file or self.var_dir / "rep-tasks.jsonl"
        return self

    @model_validator(mode="after")
    def _delivery_fits_together(self) -> Settings:
        """Rules across settings (SES needs a token secret, ...) are the delivery config's;
        checked here so a process refuses to start with the variables named."""
        try:
            self.delivery_config()
        except ValidationError as err:
            problems = "; ".join(_delivery_problem(e) for e in err.errors())
            raise ValueError(f"delivery settings do not fit together: {problems}") from None
        return self

    @property
    def uses_tls(self) -> bool:
        return self.api_key is not None or any(
            value is not None
            for value in (self.tls_cert_path, self.tls_key_path, self.tls_ca_path, self.tls_server_name)
        )

    def delivery_config(self) -> DeliveryConfig:
        """What the activities need to render and deliver touches."""
        return DeliveryConfig(
            company_name=self.company_name,
            company_url=self.company_url,
            postal_address=self.postal_address,
            outbox_dir=self.outbox_dir,
            sms_outbox_file=self.sms_outbox_file,
            tasks_file=self.tasks_file,
            default_sender=SenderProfile(
                name=self.sender_name,
                title=self.sender_title,
                email=self.sender_email,
                phone=self.sender_phone,
                signature=self.sender_signature,
            ),
            owners=self.owners,
            templates_dir=self.templates_dir,
            cadences_dir=self.cadences_dir,
            email_transport=self.email_transport,
            ses=self.ses,
            smtp=self.smtp,
            ledger=self.ledger or LedgerConfig(),
            sns_sms=self.sns_sms,
            tasks_queue=self.tasks_queue,
            token_secret=self.token_secret,
            unsubscribe_base_url=self.unsubscribe_base_url,
            reply_to_domain=self.reply_to_domain,
            thread_follow_ups=self.thread_follow_ups,
            send_windows=SendWindowPolicy(
                default_timezone=self.default_timezone,
                company_holidays=self.company_holidays,
                jitter_minutes=self.send_jitter_minutes,
                skip_public_holidays=self.skip_public_holidays,
            ),
        )


def _delivery_problem(error: Any) -> str:
    """A DeliveryConfig error in terms of TOUCHPOINT_* variables."""
    location = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    for field in Settings.model_fields:
        message = re.sub(rf"(?<!')\b{field}\b(?!')", env_name(field), message)
    return f"{env_name(location)}: {message}" if location else message

