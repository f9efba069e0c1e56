"""Where touches go and who signs them: plain models, filled in by the worker's settings.

No environment reads here; the defaults describe a fictional B2B service business so
that the engine runs end to end with no configuration at all.
"""

from pathlib import Path

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator


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


class DeliveryConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    company_name: str = "Harborview Operations Group"
    company_url: str = Field(default="https://harborview.example", pattern=r"^https?://")
    postal_address: str = "200 Harbor Street, Suite 400, Portland, ME 04101, USA"
    outbox_dir: Path = Path("var/outbox")
    sms_outbox_file: Path = Path("var/sms-outbox.jsonl")
    tasks_file: Path = Path("var/rep-tasks.jsonl")
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

    @field_validator("company_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        # Templates append paths ("{{ company.url }}/case-studies").
        return value.rstrip("/")

    def sender_for(self, owner: str | None) -> SenderProfile:
        return self.owners.get(owner or "", self.default_sender)
