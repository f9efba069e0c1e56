"""Settings the bench and the fault run build from their own values only.

A measurement must not change with the shell it runs in: a developer's TOUCHPOINT_*
variables (another server, a log level, a cache size) are ignored here, and the worker
processes started get exactly the variables `worker_env` gives them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from tests.support.privacy import privacy_settings
from workers.settings import ENV_PREFIX, Settings, env_name


class _ExplicitSettings(Settings):
    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def explicit_settings(**values: Any) -> Settings:
    """Settings from `values` and the defaults (and the test payload keys), never from the environment."""
    return _ExplicitSettings(**{**privacy_settings(), **values})


def worker_env(settings: Settings, **variables: str) -> dict[str, str]:
    """The environment of a worker process that reads `settings` back with `Settings()`,
    plus `variables` (full names, e.g. TOUCHPOINT_LEDGER)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(ENV_PREFIX)}
    # Compiled bytecode, as a deployed worker has it: without it the sandbox compiles
    # workflows/lead.py from source for every new workflow run (measured: about a
    # fifth more worker CPU per enrolled lead).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for concern, fields in {
        "connection": ("temporal_address", "namespace", "task_queue"),
        "delivery": ("var_dir", "outbox_dir"),
        "process": ("log_format", "log_level", "max_concurrent_activities", "max_cached_workflows"),
    }.items():
        for field in fields:
            value = getattr(getattr(settings, concern), field)
            env[env_name(field)] = str(value) if isinstance(value, Path) else f"{value}"
    if settings.privacy.payload_keys is not None:
        env[env_name("payload_keys")] = settings.privacy.payload_keys.get_secret_value()
    env[env_name("database_url")] = settings.stores.database(var_dir=settings.delivery.var_dir)
    return env | variables
