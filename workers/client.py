"""The one place that builds Temporal clients: the worker, the local demo, the CLI and tests."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client, TLSConfig
from temporalio.contrib.pydantic import pydantic_data_converter

from starter.connection import TemporalConnection
from workers.logging import temporal_runtime


def connect_options(connection: TemporalConnection) -> dict[str, Any]:
    """Keyword arguments for `Client.connect`; separate from `connect` so they can be
    checked without a server. Holds the API key in clear: never log the result."""
    return {
        "target_host": connection.temporal_address,
        "namespace": connection.namespace,
        "api_key": connection.api_key.get_secret_value() if connection.api_key else None,
        "tls": _tls(connection),
        # Every model on the wire is pydantic; the default converter cannot decode them.
        "data_converter": pydantic_data_converter,
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


async def connect(connection: TemporalConnection) -> Client:
    return await Client.connect(**connect_options(connection), runtime=temporal_runtime())
