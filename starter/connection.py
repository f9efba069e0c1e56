"""How to reach Temporal, for the client library and every process: the one place that
builds Temporal clients, always with the payload codec (activities/privacy/codec.py).

`TemporalConnection` is a plain model (workers/settings.py reads it from TOUCHPOINT_*
variables, one per field). Imports neither the client (`starter/client.py`) nor `workers`.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, FilePath, SecretStr, field_validator, model_validator
from temporalio.client import Client, TLSConfig
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes, PayloadCodec
from temporalio.runtime import LogForwardingConfig, LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter

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


def data_converter(codec: PayloadCodec) -> DataConverter:
    """pydantic (every model on the wire is pydantic; the default converter cannot decode
    them), every payload through `codec`, and failures with their message and stack trace
    moved into an encoded attribute: an error text can carry a value too."""
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def connect_options(connection: TemporalConnection, *, codec: PayloadCodec) -> dict[str, Any]:
    """Keyword arguments for `Client.connect`; separate from `connect` so they can be
    checked without a server. Holds the API key in clear: never log the result.
    `codec` is required: no client of ours writes plaintext payloads."""
    return {
        "target_host": connection.temporal_address,
        "namespace": connection.namespace,
        "api_key": connection.api_key.get_secret_value() if connection.api_key else None,
        "tls": _tls(connection),
        "data_converter": data_converter(codec),
    }


def _tls(connection: TemporalConnection) -> TLSConfig | bool:
    if not connection.uses_tls:
        return False
    if connection.tls_cert_path is None and connection.tls_ca_path is None and connection.tls_server_name is None:
        # API key only: TLS against the system roots, as Temporal Cloud expects.
        return True
    return TLSConfig(
        client_cert=connection.tls_cert_path.read_bytes() if connection.tls_cert_path else None,
        client_private_key=connection.tls_key_path.read_bytes() if connection.tls_key_path else None,
        server_root_ca_cert=connection.tls_ca_path.read_bytes() if connection.tls_ca_path else None,
        domain=connection.tls_server_name,
    )


async def connect(connection: TemporalConnection, *, codec: PayloadCodec) -> Client:
    """Raises RuntimeError when the server cannot be reached (the SDK's "Failed client connect")."""
    return await Client.connect(**connect_options(connection, codec=codec), runtime=temporal_runtime())


@functools.cache
def temporal_runtime() -> Runtime:
    """The SDK runtime for every client this process builds (one per process: each has
    its own thread pool). Its core, written in Rust, would print its warnings straight to
    stderr in a format of its own; forwarded into Python logging, they come out like
    every other line (JSON in production)."""
    return Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(
                filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
            )
        )
    )
