"""How to reach Temporal: the settings every client and process shares.

A plain model (workers/settings.py reads it from TOUCHPOINT_* variables, one per field).
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, FilePath, SecretStr, field_validator, model_validator

from activities.common.config import FieldsError
from workflows import names


class TemporalConnection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    temporal_address: str = Field(default="localhost:7233", description="host:port of the Temporal frontend")
    namespace: str = Field(default="default", min_length=1)
    task_queue: str = Field(default=names.DEFAULT_TASK_QUEUE, min_length=1)
    # Email on its own task queue, where one rate holds across all worker processes:
    # the client puts it in every enrollment, the worker serves it.
    email_task_queue: str | None = Field(default=None, min_length=1)
    # mTLS for a self-hosted cluster or Temporal Cloud; setting any of these turns TLS on.
    tls_cert_path: FilePath | None = None
    tls_key_path: FilePath | None = None
    tls_ca_path: FilePath | None = Field(default=None, description="CA for the server; system roots when unset")
    tls_server_name: str | None = Field(default=None, description="Server name to expect in the server certificate")
    api_key: SecretStr | None = Field(default=None, description="Temporal Cloud API key; implies TLS")

    @field_validator("temporal_address")
    @classmethod
    def _host_port(cls, value: str) -> str:
        if not re.fullmatch(r"[^\s:/]+:\d{1,5}", value):
            raise ValueError(f"{value!r} is not host:port, e.g. localhost:7233 or my-ns.a1b2c.tmprl.cloud:7233")
        return value

    @model_validator(mode="after")
    def _client_cert_pair(self) -> TemporalConnection:
        if (self.tls_cert_path is None) != (self.tls_key_path is None):
            raise FieldsError("{tls_cert_path} and {tls_key_path} must be set together (mTLS)")
        return self

    @property
    def uses_tls(self) -> bool:
        return self.api_key is not None or any(
            value is not None
            for value in (self.tls_cert_path, self.tls_key_path, self.tls_ca_path, self.tls_server_name)
        )
