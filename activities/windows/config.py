"""The send-window knobs ops turn; the hours per channel stay SendWindowPolicy's own.

A plain model (workers/settings.py reads it from TOUCHPOINT_* variables, one per field).
Each field is the policy field of the same name, so `policy()` needs no mapping.
"""

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import NoDecode

from workflows.send_window_models import SendWindowPolicy, iana_zone

# Built from constants only: no I/O, no environment.
_DEFAULTS = SendWindowPolicy()


class WindowsConfig(BaseModel):
    # By name in Python, by alias (the variable's name) from the environment.
    model_config = ConfigDict(extra="forbid", validate_by_name=True)

    default_timezone: str = Field(
        default=_DEFAULTS.default_timezone, description="IANA zone for leads and reps with no zone on file"
    )
    # NoDecode: comma-separated ISO dates, parsed by _comma_separated_dates.
    company_holidays: Annotated[tuple[date, ...], NoDecode] = Field(
        default=(), description="Days nothing is sent, e.g. 2026-12-24,2026-12-31"
    )
    jitter_minutes: int = Field(
        default=_DEFAULTS.jitter_minutes, ge=0, le=24 * 60, alias="send_jitter_minutes"
    )
    skip_public_holidays: bool = _DEFAULTS.skip_public_holidays

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

    def policy(self) -> SendWindowPolicy:
        """The default policy for plan_send: these knobs, the policy's own hours."""
        return SendWindowPolicy(**dict(self))
