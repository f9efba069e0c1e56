"""Who a touch comes from and what it is made of: company, senders, template and cadence files.

A plain model (workers/settings.py reads it from TOUCHPOINT_* variables, one per field).
The defaults describe a fictional B2B service business, so that the engine runs end to
end with no configuration at all; every commercial email carries the postal address.
"""

import json
from functools import cached_property
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator
from pydantic_settings import NoDecode

from activities.common.config import HTTP_URL


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


class ContentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    company_name: str = Field(default="Harborview Operations Group", min_length=1)
    company_url: str = Field(default="https://harborview.example", pattern=HTTP_URL)
    postal_address: str = Field(default="200 Harbor Street, Suite 400, Portland, ME 04101, USA", min_length=1)
    # The default sender: one sender_<field> per SenderProfile field (see default_sender).
    sender_name: str = Field(default="Jordan Ellis", min_length=1)
    sender_title: str = Field(default="Client Partner", min_length=1)
    sender_email: EmailStr = "jordan.ellis@harborview.example"
    sender_phone: str | None = "+12075550123"
    sender_signature: str | None = None
    # NoDecode: parsed by _owners_json, so bad JSON is reported with what to write.
    owners: Annotated[dict[str, SenderProfile], NoDecode] = Field(
        default_factory=dict,
        description='Sender per lead owner id (Lead.owner); JSON: {"rep-7": {"name": …, "title": …, "email": …}}',
    )
    templates_dir: Path | None = Field(
        default=None,
        description="A file here replaces the packaged one of the same name; the rest still apply",
    )
    cadences_dir: Path | None = Field(default=None, description="Replaces the packaged cadences as a whole")

    @field_validator("company_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        # Templates append paths ("{{ company.url }}/case-studies").
        return value.rstrip("/")

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

    @cached_property
    def default_sender(self) -> SenderProfile:
        return SenderProfile.model_validate(
            {field: getattr(self, f"sender_{field}") for field in SenderProfile.model_fields}
        )

    def sender_for(self, owner: str | None) -> SenderProfile:
        return self.owners.get(owner or "", self.default_sender)
