"""The one place that builds Temporal clients: the worker, the local demo, the CLI and tests."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client, TLSConfig
from temporalio.contrib.pydantic import pydantic_data_converter

from workers.logging import temporal_runtime
from workers.settings import Settings


def connect_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for `Client.connect`; separate from `connect` so they can be
    checked without a server. Holds the API key in clear: never log the result."""
    return {
        "target_host": settings.temporal_address,
        "namespace": settings.namespace,
        "api_key": settings.api_key.get_secret_value() if settings.api_key else None,
        "tls": _tls(settings),
        # Every model on the wire is pydantic; the default converter cannot decode them.
        "data_converter": pydantic_data_converter,
    }


def _tls(settings: Settings) -> TLSConfig | bool:
    if not settings.uses_tls:
        return False
    if settings.tls_cert_path is None and settings.tls_ca_path is None and settings.tls_server_name is None:
        # API key only: TLS against the system roots, as Temporal Cloud expects.
        return True
    return TLSConfig(
        client_cert=settings.tls_cert_path.read_bytes() if settings.tls_cert_path else None,
        client_private_key=settings.tls_key_path.read_bytes() if settings.tls_key_path else None,
        server_root_ca_cert=settings.tls_ca_path.read_bytes() if settings.tls_ca_path else None,
        domain=settings.tls_server_name,
    )


async def connect(settings: Settings) -> Client:
    return await Client.connect(**connect_options(settings), runtime=temporal_runtime())
