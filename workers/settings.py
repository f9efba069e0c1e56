"""Settings: every TOUCHPOINT_* environment variable the processes read, in one object.

Each concern declares its own model beside its code; `Settings` composes them, and
every field of every concern is one variable, TOUCHPOINT_<FIELD> (the concern is not
part of the name, so field names are unique across concerns). Adding an option is a
field on the concern's model. Nested models (TOUCHPOINT_SES, ...) are JSON objects.

Nothing is read at import time; `Settings()` reads and validates the environment when
a process starts, so tests construct it with their own values: by concern
(`connection={...}`) or flat, by variable name with or without the prefix
(`TOUCHPOINT_TASK_QUEUE=...`, `task_queue=...`), as in the environment.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from activities.common.config import FieldsError
from activities.content.config import ContentConfig
from activities.delivery.config import DeliveryConfig
from activities.inbound.config import InboundConfig
from activities.privacy.config import PrivacyConfig
from activities.stores.config import StoresConfig
from activities.windows.config import WindowsConfig
from starter.connection import TemporalConnection
from workers.console.config import ConsoleSettings
from workers.web.config import WebConfig

ENV_PREFIX = "TOUCHPOINT_"


def env_name(field: str) -> str:
    """The environment variable that sets `field`, e.g. TOUCHPOINT_LOG_FORMAT."""
    return f"{ENV_PREFIX}{field.upper()}"


class ProcessSettings(BaseModel):
    """How a process runs: logging, concurrency, stopping."""

    model_config = ConfigDict(extra="forbid")

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
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)
    process: ProcessSettings = Field(default_factory=ProcessSettings)
    staff: ConsoleSettings = Field(default_factory=ConsoleSettings)
    web: WebConfig = Field(default_factory=WebConfig)

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


class _Field(NamedTuple):
    concern: str
    key: str  # the field's alias, else its name
    info: FieldInfo


def _concern_model(concern: str) -> type[BaseModel]:
    model = Settings.model_fields[concern].annotation
    assert isinstance(model, type) and issubclass(model, BaseModel)
    return model


def _variable(concern: str, field_name: str) -> str:
    """The variable of a concern's field, given the field's Python name."""
    return env_name(_concern_model(concern).model_fields[field_name].alias or field_name)


def _fields_by_variable() -> dict[str, _Field]:
    fields: dict[str, _Field] = {}
    for concern in Settings.model_fields:
        for name, info in _concern_model(concern).model_fields.items():
            variable = _variable(concern, name)
            if variable in fields:
                raise TypeError(f"{variable} would set a field of both {fields[variable].concern} and {concern}")
            fields[variable] = _Field(concern, info.alias or name, info)
    return fields


def _nested(data: Any) -> Any:
    """Flat values (`task_queue=...`) moved into their concern; they win over the concern's own."""
    if not isinstance(data, dict):
        return data
    nested = dict(data)
    for name, value in data.items():
        field = None if name in Settings.model_fields else VARIABLES.get(_as_variable(name))
        given = nested.get(field.concern, {}) if field else None
        # A concern given whole, as a model, is taken as it is: a flat value for it is refused.
        if field and isinstance(given, dict):
            del nested[name]
            nested[field.concern] = {**given, field.key: value}
    return nested


def _as_variable(name: str) -> str:
    return name if name.startswith(ENV_PREFIX) else env_name(name)


def _located_by_variable(detail: ErrorDetails) -> InitErrorDetails:
    """The error at the variable the operator set: ("TOUCHPOINT_SES", "region") rather
    than ("delivery", "ses", "region"); a rule across fields names its variables."""
    location, cause = detail["loc"], detail.get("ctx", {}).get("error")
    concern = location[0] if location and location[0] in Settings.model_fields else None
    if isinstance(concern, str):
        # A rule of the whole concern has no one variable to stand at.
        location = (env_name(str(location[1])), *location[2:]) if len(location) > 1 else ()
        # Deeper, inside a JSON variable, the fields are the JSON keys the operator wrote.
        if isinstance(cause, FieldsError) and len(detail["loc"]) <= 2:
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
        for variable, field in VARIABLES.items():
            raw = self.env_vars.get(variable if self.case_sensitive else variable.lower())
            value = self.prepare_field_value(field.key, field.info, raw, False)
            if value is not None:
                values.setdefault(field.concern, {})[field.key] = value
        return values

    def decode_complex_value(self, field_name: str, field: FieldInfo, value: Any) -> Any:
        # Not JSON: left as it is, for validation to report against the variable.
        try:
            return super().decode_complex_value(field_name, field, value)
        except ValueError:
            return value


# Every variable and the field it sets; built once, from the models alone.
VARIABLES = _fields_by_variable()
