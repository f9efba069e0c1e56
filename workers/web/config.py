"""The web app's settings: its socket, the Temporal UI origins, the codec token, and the
unsubscribe links' rate limit.

A plain model (workers/settings.py reads one TOUCHPOINT_<FIELD> variable per field).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from activities.common.tokens import GOOD_SECRET_HINT, secret_weakness

# The dev server's Web UI, by either name a browser may have typed.
LOCAL_UI_ORIGINS = ("http://localhost:8233", "http://127.0.0.1:8233")
# What a browser sends in Origin: scheme, host and optional port; no path, no trailing slash.
ORIGIN = re.compile(r"https?://[^/\s]+")


class WebConfig(BaseModel):
    # Errors never echo the input: web_codec_token is one of the fields.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    web_host: str = Field(default="127.0.0.1", min_length=1, description="Address `touchpoint web` listens on")
    web_port: int = Field(default=8088, ge=0, le=65535, description="Port (plain HTTP); 0 picks a free one")
    # NoDecode: comma-separated origins, split by _comma_separated.
    web_cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        default=LOCAL_UI_ORIGINS, description="Origins (scheme://host[:port]) of the Temporal UIs that call the codec"
    )
    web_codec_token: SecretStr | None = Field(
        default=None, description="Bearer token the codec endpoint requires; needed when web_host is not loopback"
    )
    unsubscribe_rate_per_minute: int = Field(
        default=120, ge=1, le=100_000, description="Requests per client address a minute; more get 429"
    )
    unsubscribe_forwarded_for: bool = Field(
        default=False, description="Behind a proxy that always sets X-Forwarded-For: limit by its last entry"
    )

    @field_validator("web_cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("web_cors_origins")
    @classmethod
    def _origins(cls, origins: tuple[str, ...]) -> tuple[str, ...]:
        for number, origin in enumerate(origins, 1):
            # One with a path or a trailing slash would never match what a browser sends.
            if not _is_origin(origin):
                raise ValueError(
                    f"origin {number} is not scheme://host[:port] without a path, e.g. http://localhost:8233"
                )
        return origins

    @field_validator("web_codec_token")
    @classmethod
    def _strong(cls, value: SecretStr | None) -> SecretStr | None:
        problem = value is not None and secret_weakness(value.get_secret_value())
        if problem:
            raise ValueError(f"the codec token is too weak: {problem}; {GOOD_SECRET_HINT}")
        return value

    @property
    def on_loopback(self) -> bool:
        """Whether only this machine can reach the app (then the codec may go without a token)."""
        if self.web_host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.web_host).is_loopback
        except ValueError:
            # A host name other than localhost may resolve to anything.
            return False


def _is_origin(origin: str) -> bool:
    return ORIGIN.fullmatch(origin) is not None
