"""The console's settings: who may sign in, and how sessions are signed.

A plain model (workers/settings.py reads it from TOUCHPOINT_CONSOLE, a JSON object)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

Role = Literal["viewer", "staff", "admin"]
# Who sees a lead's personal data (name, email, phone, company) and may send commands.
STAFF_ROLES: frozenset[str] = frozenset({"staff", "admin"})


class ConsoleUser(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")
    password_hash: str = Field(description="argon2id, from `touchpoint console-user hash`")
    role: Role = "viewer"

    @field_validator("password_hash")
    @classmethod
    def _argon2(cls, value: str) -> str:
        if not value.startswith("$argon2"):
            raise ValueError("password_hash must be an argon2 hash: make one with `touchpoint console-user hash`")
        return value


class ConsoleConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    users: list[ConsoleUser] = Field(default_factory=list)
    session_secret: SecretStr | None = Field(
        default=None, description="Signs session cookies (32+ characters); one is made per process when unset"
    )
    session_hours: float = Field(default=12, gt=0, le=24 * 30)
    # Behind a single-sign-on proxy that authenticates staff and always sets these headers.
    sso_user_header: str | None = Field(default=None, pattern=r"^[A-Za-z0-9-]{1,64}$")
    sso_role_header: str | None = Field(default=None, pattern=r"^[A-Za-z0-9-]{1,64}$")
    sso_default_role: Role = "viewer"
    secure_cookies: bool = Field(default=True, description="Secure cookies (browsers keep them on localhost too)")

    @field_validator("session_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if (
            value is not None
            and len(set(value.get_secret_value())) < 8
            or (value is not None and len(value.get_secret_value()) < 32)
        ):
            raise ValueError("session_secret must be 32+ characters with 8+ distinct ones, e.g. `openssl rand -hex 32`")
        return value


class ConsoleSettings(BaseModel):
    """The concern workers/settings.py composes: TOUCHPOINT_CONSOLE, one JSON object."""

    model_config = ConfigDict(extra="forbid")

    console: ConsoleConfig = Field(default_factory=ConsoleConfig)
