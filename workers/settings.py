"""Settings: every TOUCHPOINT_* environment variable the processes read, in one object.

Each concern declares its own model beside its code; `Settings` composes them, and
every field of every concern is one variable, TOUCHPOINT_<FIELD> (the concern is not
part of the name, so field names are unique across concerns). Adding an option is a
field on the concern's model. Nested models (TOUCHPOINT_SES, ...) are JSON objects.

Nothing is read at import time; `Settings()` reads and validates the environment when
a process starts, so tests construct it with their own values: by concern
(`connection={...}`) or flat, by field or variable name (`task_queue=...`,
`TOUCHPOINT_TASK_QUEUE=...`), as in the environment.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from activities.common.config import FieldsError
from activities.content.config import ContentConfig
from activities.delivery.config import DeliveryConfig
from activities.inbound.config import InboundConfig
from activities.stores.config import StoresConfig
from activities.windows.config import WindowsConfig
from starter.connection import TemporalConnection

ENV_PREFIX = "TOUCHPOINT_"


def env_name(field: str) -> str:
    """The environment variable that sets `field`, e.g. TOUCHPOINT_LOG_FORMAT."""
    return f"{ENV_PREFIX}{field.upper()}"


class ProcessSettings(BaseModel):
    """How a process runs: logging, concurrency, stopping, and the unsubscribe server's socket."""

    log_format: Literal["console", "json"] = "console"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    max_concurrent_activities: int = Field(default=20, ge=1, le=1000)
    max_cached_workflows: int = Field(default=1000, ge=0)
    # Sends are short; this bounds how long a stopping worker waits for in-flight ones
    # (below Kubernetes' default 30 s termination grace period).
    graceful_shutdown_seconds: float = Field(default=20, ge=0, le=3600)
    email_rate_per_second: float | None = Field(
        default=None, gt=0, description="Unset with SES: 90% of the account's MaxSendRate"
    )
    unsubscribe_host: str = "127.0.0.1"
    unsubscribe_port: int = Field(default=8088, ge=1, le=65535)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class Settings(BaseSettings):
    # Errors never echo the raw input: it holds every TOUCHPOINT_* value, secrets too.
    model_config = SettingsConfigDict(hide_input_in_errors=True, env_prefix=ENV_PREFIX)

    connection: TemporalConnection = Field(default_factory=TemporalConnection)
    content: ContentConfig = Field(default_factory=ContentConfig)
    delivery: DeliveryConfig = Field(default_factory=DeliveryConfig)
    stores: StoresConfig = Field(default_factory=StoresConfig)
    windows: WindowsConfig = Field(default_factory=WindowsConfig)
    inbound: InboundConfig = Field(default_factory=InboundConfig)
    process: ProcessSettings = Field(default_factory=ProcessSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, _ConcernVariables(settings_cls))

    @model_validator(mode="wrap")
    @classmethod
    def _by_variable(cls, data: Any, handler: Any) -> Settings:
        """Validate flat values into their concerns; report errors by variable name."""
        try:
            return handler(_nested(data))
        except ValidationError as error:
            raise ValidationError.from_exception_data(
                error.title, [_located_by_variable(detail) for detail in error.errors()]
            ) from None


@cache
def _concerns() -> dict[str, type[BaseModel]]:
    concerns = {}
    for name, field in Settings.model_fields.items():
        assert isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)
        concerns[name] = field.annotation
    return concerns


def _key(field_name: str, field: FieldInfo) -> str:
    """The name a concern's field is given by from outside: its alias, else its name."""
    return field.alias or field_name


@cache
def _owners() -> dict[str, tuple[str, str]]:
    """Every way to name a concern's field (name, alias, variable) -> (concern, key)."""
    owners: dict[str, tuple[str, str]] = {}
    for concern, model in _concerns().items():
        for field_name, field in model.model_fields.items():
            key = _key(field_name, field)
            if env_name(key) in owners:
                raise TypeError(f"{env_name(key)} would set both {owners[env_name(key)][0]} and {concern}")
            for name in {field_name, key, env_name(key)}:
                owners[name] = (concern, key)
    return owners


def _nested(data: Any) -> Any:
    """Flat values (`task_queue=...`) moved into their concern; they win over the concern's own."""
    if not isinstance(data, dict):
        return data
    nested = dict(data)
    for name, value in data.items():
        if name in Settings.model_fields or name not in _owners():
            continue
        concern, key = _owners()[name]
        given = nested.get(concern, {})
        if isinstance(given, dict):
            del nested[name]
            nested[concern] = {**given, key: value}
    return nested


def _variable(concern: str, field_name: str) -> str:
    field = _concerns()[concern].model_fields[field_name]
    return env_name(_key(field_name, field))


def _located_by_variable(detail: ErrorDetails) -> InitErrorDetails:
    """The error at the variable the operator set: ("TOUCHPOINT_SES", "region") rather
    than ("delivery", "ses", "region"); a rule across fields names its variables."""
    location, cause = detail["loc"], detail.get("ctx", {}).get("error")
    concern = location[0] if location and location[0] in Settings.model_fields else None
    if isinstance(concern, str):
        # A rule of the whole concern has no one variable to stand at.
        location = (env_name(str(location[1])), *location[2:]) if len(location) > 1 else ()
        if isinstance(cause, FieldsError):
            named = cause.named(lambda field: _variable(concern, field))
            error = ValueError(named)
            return {"type": "value_error", "loc": location, "input": detail["input"], "ctx": {"error": error}}
    if "url" in detail:  # one of pydantic's own error types: kept as it is, context and all
        return {"type": detail["type"], "loc": location, "input": detail["input"], "ctx": detail.get("ctx", {})}
    return {"type": PydanticCustomError(detail["type"], detail["msg"]), "loc": location, "input": detail["input"]}


class _ConcernVariables(EnvSettingsSource):
    """TOUCHPOINT_<FIELD> for every field of every concern, decoded as pydantic-settings
    decodes any variable (JSON for nested models, unless the field says NoDecode)."""

    def __call__(self) -> dict[str, Any]:
        values: dict[str, dict[str, Any]] = {}
        for concern, model in _concerns().items():
            for field_name, field in model.model_fields.items():
                key = _key(field_name, field)
                variable = env_name(key)
                raw = self.env_vars.get(variable if self.case_sensitive else variable.lower())
                value = self.prepare_field_value(key, field, raw, False)
                if value is not None:
                    values.setdefault(concern, {})[key] = value
        return values

    def decode_complex_value(self, field_name: str, field: FieldInfo, value: Any) -> Any:
        # Not JSON: left as it is, for validation to report against the variable.
        try:
            return super().decode_complex_value(field_name, field, value)
        except ValueError:
            return value
