"""The one client factory connects plainly, with mTLS, or with an API key, always with the pydantic
converter, the payload codec and failures whose message and stack trace are encoded."""

from pathlib import Path

import pytest
from temporalio.client import TLSConfig
from temporalio.contrib.pydantic import PydanticPayloadConverter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes

from starter.connection import TemporalConnection, connect_options
from tests.support.privacy import shared_codec


@pytest.fixture
def pem_files(tmp_path: Path) -> dict[str, Path]:
    files = {name: tmp_path / f"{name}.pem" for name in ("cert", "key", "ca")}
    for name, path in files.items():
        path.write_bytes(f"-----{name}-----".encode())
    return files


def test_local_server_is_plain_and_uses_the_pydantic_converter() -> None:
    options = connect_options(
        TemporalConnection(temporal_address="127.0.0.1:7233", namespace="default"), codec=shared_codec()
    )

    assert options["target_host"] == "127.0.0.1:7233"
    assert options["namespace"] == "default"
    assert options["tls"] is False
    assert options["api_key"] is None
    _assert_encrypting_pydantic(options["data_converter"])


def test_mtls_reads_certificate_key_and_ca(pem_files: dict[str, Path]) -> None:
    settings = TemporalConnection(
        temporal_address="sales.a1b2c.tmprl.cloud:7233",
        namespace="sales.a1b2c",
        tls_cert_path=pem_files["cert"],
        tls_key_path=pem_files["key"],
        tls_ca_path=pem_files["ca"],
        tls_server_name="temporal.internal",
    )

    options = connect_options(settings, codec=shared_codec())

    assert options["tls"] == TLSConfig(
        client_cert=b"-----cert-----",
        client_private_key=b"-----key-----",
        server_root_ca_cert=b"-----ca-----",
        domain="temporal.internal",
    )
    assert options["api_key"] is None
    _assert_encrypting_pydantic(options["data_converter"])


def test_api_key_turns_on_tls_with_system_roots() -> None:
    settings = TemporalConnection(
        temporal_address="us-east-1.aws.api.temporal.io:7233", namespace="sales.a1b2c", api_key="tp-key"
    )

    options = connect_options(settings, codec=shared_codec())

    assert options["api_key"] == "tp-key"
    assert options["tls"] is True


def test_api_key_with_private_ca_keeps_the_ca(pem_files: dict[str, Path]) -> None:
    settings = TemporalConnection(
        temporal_address="temporal.internal:7233", api_key="tp-key", tls_ca_path=pem_files["ca"]
    )

    options = connect_options(settings, codec=shared_codec())

    assert options["api_key"] == "tp-key"
    assert options["tls"] == TLSConfig(server_root_ca_cert=b"-----ca-----")


def _assert_encrypting_pydantic(converter: DataConverter) -> None:
    assert converter.payload_converter_class is PydanticPayloadConverter
    assert converter.payload_codec is shared_codec()
    assert converter.failure_converter_class is DefaultFailureConverterWithEncodedAttributes
