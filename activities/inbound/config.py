"""What `touchpoint ingest` reads: the SQS queues events, replies and texts arrive on.

A plain model (workers/settings.py reads it from TOUCHPOINT_INGEST, a JSON object).
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from activities.common.config import AWS_REGION, HTTP_URL

QueueKind = Literal["events", "replies", "sms"]
# S3's bucket naming rules (3-63 characters, lowercase letters, digits, dots, hyphens).
S3_BUCKET = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
SNS_TOPIC_ARN = r"^arn:aws[a-z-]*:sns:[a-z]{2}(-[a-z]+)+-\d+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$"


class IngestConfig(BaseModel):
    """TOUCHPOINT_INGEST: the queues `touchpoint ingest` reads (at least one) and its DLQ."""

    model_config = ConfigDict(extra="forbid")

    region: str = Field(pattern=AWS_REGION, description="e.g. us-east-1")
    endpoint_url: str | None = Field(default=None, pattern=HTTP_URL, description="Tests and emulators (moto) only")
    events_queue_url: str | None = Field(default=None, pattern=HTTP_URL)
    replies_queue_url: str | None = Field(default=None, pattern=HTTP_URL)
    sms_queue_url: str | None = Field(default=None, pattern=HTTP_URL)
    dead_letter_queue_url: str = Field(pattern=HTTP_URL, description="Where unreadable messages go, with the reason")
    wait_seconds: int = Field(default=20, ge=0, le=20, description="SQS long-poll wait")
    batch_size: int = Field(default=10, ge=1, le=10)
    max_receives: int = Field(default=10, ge=1, le=1000)
    click_settle_seconds: float = Field(default=30.0, ge=0, le=600)
    scanner_after_delivery_seconds: float = Field(default=10.0, ge=0, le=3600)
    remember_event_ids: int = Field(default=100_000, ge=0)
    report_every_seconds: float = Field(default=60.0, gt=0)
    inbound_buckets: list[Annotated[str, Field(pattern=S3_BUCKET)]] = Field(
        default_factory=list,
        description="The S3 bucket(s) SES's receipt rule stores large inbound mail in; no other is read",
    )
    sns_topic_arns: list[Annotated[str, Field(pattern=SNS_TOPIC_ARN)]] = Field(
        default_factory=list,
        description="The SNS topics whose messages count; a signed message from any other is refused (none: any)",
    )
    sns_max_age_hours: float = Field(
        default=96,
        gt=0,
        le=14 * 24,
        description="A signed message older than this is refused as a replay (SQS keeps messages 4 days by default)",
    )
    verify_sns_signatures: bool = Field(
        default=True,
        description="Check every message's SNS signature; off only for emulators (moto) that do not sign",
    )

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


class InboundConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Unset: `touchpoint ingest` refuses to start; nothing else reads it.
    ingest: IngestConfig | None = None
